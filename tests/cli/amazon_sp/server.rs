//! A local SP-API on 127.0.0.1 for the tests, in the test process: Login with Amazon's
//! token endpoint, the Feeds API 2021-06-30 and the presigned upload and download URLs.
//! It refuses what Amazon refuses: request bodies that break the Feeds model
//! (`../shared/reference/channel-apis/amazon-sp-api/feeds_2021-06-30.json`: required
//! fields, types, bounds, and unknown fields), a feed document that breaks
//! `listings-feed-schema-v2.json` or repeats a messageId, a missing, foreign or expired
//! `x-amz-access-token`, an upload whose Content-Type differs from the one declared (the
//! presigned URL is signed for it), a createFeed of a document never uploaded, and calls
//! over an operation's usage plan (429).
//!
//! A feed is processed after a few polls: its messages are applied to the server's
//! listings (UPDATE replaces, DELETE removes) unless an ERROR issue refuses them, and a
//! processing report is written (gzipped when asked). Faults are injected per operation,
//! and a feed can be made to end FATAL.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::io::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{Value, json};

use crate::local_server::LocalServer;
use crate::support::shared;

pub(crate) const CLIENT_ID: &str = "amzn1.application-oa2-client.omnifeedtest";
pub(crate) const CLIENT_SECRET: &str = "amzn1.oa2-cs.v1.s3cr3t-client-omnifeed";
pub(crate) const REFRESH_TOKEN: &str = "Atzr|refresh-s3cr3t-omnifeed";
/// Every access token the server issues starts with this (Amazon's do too).
pub(crate) const ACCESS_TOKEN_PREFIX: &str = "Atza|";
pub(crate) const CONTENT_TYPE: &str = "application/json; charset=UTF-8";

/// Feeds API operations, for faults and counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Op {
    Token,
    CreateFeedDocument,
    Upload,
    CreateFeed,
    GetFeed,
    GetFeedDocument,
    Download,
}

/// Injected once, in order, for an operation before it is handled normally.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    TooMany,
    ServerError,
    /// The request is handled (and applied), then the connection drops mid-answer.
    DropAfterApply,
    /// Every token issued so far expires now: this call and the next get a 403.
    ExpireTokens,
}

/// An operation's usage plan, enforced with a token bucket.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) per_second: f64,
    pub(crate) burst: f64,
}

struct Bucket {
    plan: Plan,
    tokens: f64,
    at: Instant,
}

impl Bucket {
    fn take(&mut self) -> bool {
        let now = Instant::now();
        let elapsed = now.duration_since(self.at).as_secs_f64();
        self.at = now;
        self.tokens = (self.tokens + elapsed * self.plan.per_second).min(self.plan.burst);
        // A little slack for the client's and the server's clocks reading the same instant
        // differently.
        if self.tokens >= 0.95 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

struct Document {
    content_type: String,
    content: Option<Vec<u8>>,
}

struct FeedJob {
    polls_left: usize,
    fatal: bool,
    status: &'static str,
    /// The processing report's document, shown once the polls are spent.
    result: String,
}

pub(crate) struct State {
    tokens: HashMap<String, Instant>,
    pub(crate) tokens_issued: usize,
    documents: HashMap<String, Document>,
    feeds: HashMap<String, FeedJob>,
    /// Report documents: id -> (bytes, gzipped).
    reports: HashMap<String, (Vec<u8>, bool)>,
    next_id: u64,
    /// SKU -> the listing as last UPDATEd (the message without messageId).
    pub(crate) listings: BTreeMap<String, Value>,
    /// SKU -> (code, message): every UPDATE of it gets this ERROR issue.
    pub(crate) rejections: HashMap<String, (String, String)>,
    /// SKU -> (code, message): every UPDATE of it is applied with this WARNING.
    pub(crate) warnings: HashMap<String, (String, String)>,
    pub(crate) faults: HashMap<Op, VecDeque<Fault>>,
    /// The feed created as this one (from 1) ends FATAL: nothing in it is applied.
    pub(crate) fatal_feed: Option<usize>,
    /// getFeed answers IN_QUEUE, then IN_PROGRESS, this many times before the outcome.
    pub(crate) polls_before_done: usize,
    pub(crate) gzip_reports: bool,
    plans: HashMap<Op, Bucket>,
    /// Calls per operation, refused ones included.
    pub(crate) calls: HashMap<Op, usize>,
    /// Every refusal the server made (status and reason), faults excluded.
    pub(crate) refusals: Vec<String>,
    /// Calls refused for exceeding a usage plan.
    pub(crate) throttled: usize,
    /// Feeds created, and the messages of each document uploaded.
    pub(crate) feeds_created: usize,
    pub(crate) largest_document: usize,
    /// Messages processed over every feed (FATAL ones excluded).
    pub(crate) messages_processed: usize,
    pub(crate) most_messages: usize,
    /// Check each uploaded document against the listings feed schema (a benchmark may
    /// skip the schema and keep only the other checks).
    pub(crate) validate_documents: bool,
    feeds_model: Value,
    feed_schema: jsonschema::Validator,
}

pub(crate) type SpApiServer = LocalServer<State>;

fn read_json(relative: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(shared(relative)).expect("read reference"))
        .expect("reference is JSON")
}

impl LocalServer<State> {
    pub(crate) fn start() -> SpApiServer {
        let feeds_model = read_json("reference/channel-apis/amazon-sp-api/feeds_2021-06-30.json");
        let feed_schema =
            read_json("reference/amazon-listings-feed-schema/listings-feed-schema-v2.json");
        let feed_schema = jsonschema::draft7::new(&feed_schema).expect("schema compiles");
        LocalServer::serve(
            |_| State {
                tokens: HashMap::new(),
                tokens_issued: 0,
                documents: HashMap::new(),
                feeds: HashMap::new(),
                reports: HashMap::new(),
                next_id: 1000,
                listings: BTreeMap::new(),
                rejections: HashMap::new(),
                warnings: HashMap::new(),
                faults: HashMap::new(),
                fatal_feed: None,
                polls_before_done: 2,
                gzip_reports: true,
                plans: HashMap::new(),
                calls: HashMap::new(),
                refusals: Vec::new(),
                throttled: 0,
                feeds_created: 0,
                largest_document: 0,
                messages_processed: 0,
                most_messages: 0,
                validate_documents: true,
                feeds_model,
                feed_schema,
            },
            |shared, addr| {
                axum::Router::new()
                    .fallback(
                        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                            let state = Arc::clone(&shared);
                            async move { handle(&state, addr, method, uri, headers, body) }
                        },
                    )
                    .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            },
        )
    }

    /// Enforces `plan` on `op` from now on.
    pub(crate) fn limit(&self, op: Op, plan: Plan) {
        self.state().plans.insert(
            op,
            Bucket {
                plan,
                tokens: plan.burst,
                at: Instant::now(),
            },
        );
    }
}

impl State {
    /// No usage plan is enforced any more.
    pub(crate) fn plans_off(&mut self) {
        self.plans.clear();
    }
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

/// The SP-API's error list.
fn errors(status: StatusCode, code: &str, message: &str, details: &str) -> Response {
    json_response(
        status,
        &json!({"errors": [{"code": code, "message": message, "details": details}]}),
    )
}

/// A refusal the test expects never to see from a correct client.
fn refuse(state: &mut State, status: StatusCode, code: &str, message: String) -> Response {
    state.refusals.push(format!("{status} {code}: {message}"));
    errors(status, code, &message, "")
}

/// An answer whose connection drops after the headers: the client cannot know the outcome.
fn dropped() -> Response {
    let stream = futures::stream::iter(vec![
        Ok::<Bytes, std::io::Error>(Bytes::from_static(b"{\"partial\": ")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "dropped by the test server",
        )),
    ]);
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("content-length", "4096")
        .body(Body::from_stream(stream))
        .expect("response")
}

fn handle(
    state: &Mutex<State>,
    addr: SocketAddr,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("server state");
    let path = uri.path().to_owned();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let op = match (&method, parts.as_slice()) {
        (&Method::POST, ["auth", "o2", "token"]) => Op::Token,
        (&Method::POST, ["feeds", "2021-06-30", "documents"]) => Op::CreateFeedDocument,
        (&Method::PUT, ["upload", _]) => Op::Upload,
        (&Method::POST, ["feeds", "2021-06-30", "feeds"]) => Op::CreateFeed,
        (&Method::GET, ["feeds", "2021-06-30", "feeds", _]) => Op::GetFeed,
        (&Method::GET, ["feeds", "2021-06-30", "documents", _]) => Op::GetFeedDocument,
        (&Method::GET, ["download", _]) => Op::Download,
        _ => {
            return refuse(
                &mut state,
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("{method} {path}"),
            );
        }
    };
    *state.calls.entry(op).or_default() += 1;
    let mut drop_after = false;
    if let Some(fault) = state.faults.get_mut(&op).and_then(VecDeque::pop_front) {
        match fault {
            Fault::TooMany => {
                return errors(
                    StatusCode::TOO_MANY_REQUESTS,
                    "QuotaExceeded",
                    "You exceeded your quota for the requested resource.",
                    "",
                );
            }
            Fault::ServerError => {
                return errors(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "InternalFailure",
                    "We encountered an internal error. Please try again.",
                    "",
                );
            }
            Fault::DropAfterApply => drop_after = true,
            Fault::ExpireTokens => {
                let now = Instant::now();
                for expiry in state.tokens.values_mut() {
                    *expiry = now;
                }
            }
        }
    }
    let answer = match op {
        Op::Token => token(&mut state, &body),
        Op::Upload => upload(&mut state, parts[1], &headers, &body),
        Op::Download => download(&mut state, parts[1]),
        _ => {
            // Every SP-API call needs a token this server issued, not expired.
            let token = headers
                .get("x-amz-access-token")
                .and_then(|v| v.to_str().ok());
            let Some(token) = token else {
                return refuse(
                    &mut state,
                    StatusCode::FORBIDDEN,
                    "Unauthorized",
                    "Access to requested resource is denied: no x-amz-access-token".into(),
                );
            };
            match state.tokens.get(token) {
                None => {
                    return refuse(
                        &mut state,
                        StatusCode::FORBIDDEN,
                        "Unauthorized",
                        "The access token you provided is revoked, malformed or invalid.".into(),
                    );
                }
                // An expired token is what a long run meets: not a client mistake.
                Some(expiry) if Instant::now() >= *expiry => {
                    return errors(
                        StatusCode::FORBIDDEN,
                        "Unauthorized",
                        "Access to requested resource is denied.",
                        "The access token you provided has expired.",
                    );
                }
                Some(_) => {}
            }
            if let Some(bucket) = state.plans.get_mut(&op)
                && !bucket.take()
            {
                state.throttled += 1;
                return errors(
                    StatusCode::TOO_MANY_REQUESTS,
                    "QuotaExceeded",
                    "You exceeded your quota for the requested resource.",
                    "",
                );
            }
            match op {
                Op::CreateFeedDocument => create_document(&mut state, addr, &headers, &body),
                Op::CreateFeed => create_feed(&mut state, &headers, &body),
                Op::GetFeed => get_feed(&mut state, parts[3]),
                Op::GetFeedDocument => get_document(&mut state, addr, parts[3]),
                _ => unreachable!("handled above"),
            }
        }
    };
    if drop_after {
        return dropped();
    }
    answer
}

/// LWA: `grant_type=refresh_token` with this app's id and secret and the seller's token.
fn token(state: &mut State, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    let field = |name: &str| form.get(name).map(String::as_str);
    if field("grant_type") != Some("refresh_token") {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "unsupported_grant_type", "error_description": "grant_type must be refresh_token"}),
        );
    }
    if field("client_id") != Some(CLIENT_ID) || field("client_secret") != Some(CLIENT_SECRET) {
        return json_response(
            StatusCode::UNAUTHORIZED,
            &json!({"error": "invalid_client", "error_description": "Client authentication failed"}),
        );
    }
    if field("refresh_token") != Some(REFRESH_TOKEN) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_grant", "error_description": "The request has an invalid grant parameter : refresh_token"}),
        );
    }
    state.tokens_issued += 1;
    let token = format!("{ACCESS_TOKEN_PREFIX}issued-{}", state.tokens_issued);
    state
        .tokens
        .insert(token.clone(), Instant::now() + Duration::from_secs(3600));
    json_response(
        StatusCode::OK,
        &json!({"access_token": token, "refresh_token": REFRESH_TOKEN, "token_type": "bearer", "expires_in": 3600}),
    )
}

/// The Feeds model's definition `name` as a JSON Schema that also refuses unknown
/// properties (Amazon answers 400 InvalidInput for them).
fn model_schema(model: &Value, name: &str) -> Value {
    fn close(value: &mut Value) {
        match value {
            Value::Object(map) => {
                if map.contains_key("properties") && !map.contains_key("additionalProperties") {
                    map.insert("additionalProperties".into(), Value::Bool(false));
                }
                map.values_mut().for_each(close);
            }
            Value::Array(items) => items.iter_mut().for_each(close),
            _ => {}
        }
    }
    let mut definitions = model["definitions"].clone();
    close(&mut definitions);
    json!({"$ref": format!("#/definitions/{name}"), "definitions": definitions})
}

/// The body as JSON valid against the model's `definition`, or the 400 Amazon gives.
fn checked_body(
    state: &mut State,
    headers: &HeaderMap,
    body: &[u8],
    definition: &str,
) -> Result<Value, Box<Response>> {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if !content_type.starts_with("application/json") {
        return Err(Box::new(refuse(
            state,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "InvalidInput",
            format!("Content-Type {content_type:?} is not application/json"),
        )));
    }
    let value: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return Err(Box::new(refuse(
                state,
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                format!("not JSON: {err}"),
            )));
        }
    };
    let schema = model_schema(&state.feeds_model, definition);
    let validator = jsonschema::draft4::new(&schema).expect("model schema compiles");
    let problems: Vec<String> = validator
        .iter_errors(&value)
        .map(|e| format!("{e} at {}", e.instance_path()))
        .collect();
    if !problems.is_empty() {
        return Err(Box::new(refuse(
            state,
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            format!("{definition}: {}", problems.join("; ")),
        )));
    }
    Ok(value)
}

fn next_id(state: &mut State, prefix: &str) -> String {
    state.next_id += 1;
    format!("{prefix}{}", state.next_id)
}

fn create_document(
    state: &mut State,
    addr: SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Response {
    let spec = match checked_body(state, headers, body, "CreateFeedDocumentSpecification") {
        Ok(spec) => spec,
        Err(refusal) => return *refusal,
    };
    let id = next_id(state, "amzn1.tortuga.4.na.doc-");
    state.documents.insert(
        id.clone(),
        Document {
            content_type: spec["contentType"].as_str().unwrap_or_default().to_owned(),
            content: None,
        },
    );
    json_response(
        StatusCode::CREATED,
        &json!({"feedDocumentId": id, "url": format!("http://{addr}/upload/{id}")}),
    )
}

fn upload(state: &mut State, id: &str, headers: &HeaderMap, body: &[u8]) -> Response {
    let sent = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let Some(declared) = state.documents.get(id).map(|d| d.content_type.clone()) else {
        return refuse(
            state,
            StatusCode::NOT_FOUND,
            "NoSuchUpload",
            format!("no document {id}"),
        );
    };
    if sent != declared {
        // The URL is signed for the declared Content-Type: S3 refuses any other.
        return refuse(
            state,
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            format!("Content-Type {sent:?} differs from the declared {declared:?}"),
        );
    }
    if let Some(document) = state.documents.get_mut(id) {
        document.content = Some(body.to_vec());
    }
    Response::builder()
        .status(StatusCode::OK)
        .body(Body::empty())
        .expect("response")
}

fn create_feed(state: &mut State, headers: &HeaderMap, body: &[u8]) -> Response {
    let spec = match checked_body(state, headers, body, "CreateFeedSpecification") {
        Ok(spec) => spec,
        Err(refusal) => return *refusal,
    };
    if spec["feedType"] != "JSON_LISTINGS_FEED" {
        return refuse(
            state,
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            format!("feed type {} is not served here", spec["feedType"]),
        );
    }
    let document_id = spec["inputFeedDocumentId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let Some(content) = state
        .documents
        .get(&document_id)
        .and_then(|d| d.content.clone())
    else {
        return refuse(
            state,
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            format!("document {document_id} was not uploaded"),
        );
    };
    if let Err(why) = check_document(state, &content) {
        return refuse(state, StatusCode::BAD_REQUEST, "InvalidInput", why);
    }
    state.feeds_created += 1;
    let fatal = state.fatal_feed == Some(state.feeds_created);
    let id = next_id(state, "");
    // Amazon processes a feed whether or not its creator hears back: a createFeed whose
    // answer is lost still changes the listings.
    let report = if fatal {
        fatal_report(&id)
    } else {
        process(state, &id, &content)
    };
    let bytes = report.to_string().into_bytes();
    let gzip = state.gzip_reports;
    let bytes = if gzip {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&bytes).expect("gzip");
        encoder.finish().expect("gzip")
    } else {
        bytes
    };
    let report_id = next_id(state, "amzn1.tortuga.4.na.report-");
    state.reports.insert(report_id.clone(), (bytes, gzip));
    let polls_left = state.polls_before_done;
    state.feeds.insert(
        id.clone(),
        FeedJob {
            polls_left,
            fatal,
            status: "IN_QUEUE",
            result: report_id,
        },
    );
    json_response(StatusCode::ACCEPTED, &json!({"feedId": id}))
}

/// The uploaded document against the listings feed schema, plus what the schema cannot
/// say: unique messageIds.
fn check_document(state: &mut State, content: &[u8]) -> Result<(), String> {
    state.largest_document = state.largest_document.max(content.len());
    let document: Value = serde_json::from_slice(content)
        .map_err(|err| format!("the document is not JSON: {err}"))?;
    if state.validate_documents {
        let problems: Vec<String> = state
            .feed_schema
            .iter_errors(&document)
            .take(5)
            .map(|e| format!("{e} at {}", e.instance_path()))
            .collect();
        if !problems.is_empty() {
            return Err(format!(
                "the document breaks listings-feed-schema-v2: {}",
                problems.join("; ")
            ));
        }
    }
    let messages = document["messages"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    state.most_messages = state.most_messages.max(messages.len());
    let mut ids = HashSet::new();
    for message in messages {
        if !ids.insert(message["messageId"].as_u64()) {
            return Err(format!("messageId {} is repeated", message["messageId"]));
        }
    }
    Ok(())
}

fn get_feed(state: &mut State, id: &str) -> Response {
    let Some(job) = state.feeds.get_mut(id) else {
        return refuse(
            state,
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no feed {id}"),
        );
    };
    if job.polls_left > 0 {
        job.polls_left -= 1;
        if job.status == "IN_QUEUE" && job.polls_left == 0 {
            job.status = "IN_PROGRESS";
        }
    } else {
        job.status = if job.fatal { "FATAL" } else { "DONE" };
    }
    let mut feed = json!({
        "feedId": id,
        "feedType": "JSON_LISTINGS_FEED",
        "marketplaceIds": ["A1PA6795UKMFR9"],
        "createdTime": "2026-11-30T00:00:00Z",
        "processingStatus": job.status,
    });
    if matches!(job.status, "DONE" | "FATAL") {
        feed["resultFeedDocumentId"] = Value::String(job.result.clone());
    }
    json_response(StatusCode::OK, &feed)
}

fn fatal_report(feed_id: &str) -> Value {
    json!({
        "header": {"sellerId": "A1TESTSELLER", "version": "2.0", "feedId": feed_id},
        "issues": [{"code": "4000001", "severity": "ERROR", "message": "The feed could not be processed (injected FATAL)."}],
        "summary": {"errors": 1, "warnings": 0, "messagesProcessed": 0, "messagesAccepted": 0, "messagesInvalid": 0}
    })
}

/// Applies a feed's messages to the listings and reports on each.
fn process(state: &mut State, feed_id: &str, content: &[u8]) -> Value {
    let document: Value = serde_json::from_slice(content).expect("checked at createFeed");
    let mut issues = Vec::new();
    let (mut accepted, mut invalid, mut warnings) = (0, 0, 0);
    let messages = document["messages"].as_array().cloned().unwrap_or_default();
    state.messages_processed += messages.len();
    for message in &messages {
        let id = message["messageId"].clone();
        let sku = message["sku"].as_str().unwrap_or_default().to_owned();
        match message["operationType"].as_str() {
            Some("DELETE") => {
                state.listings.remove(&sku);
                accepted += 1;
            }
            Some("UPDATE") => {
                if let Some((code, text)) = state.rejections.get(&sku) {
                    issues.push(json!({"messageId": id, "sku": sku, "code": code, "severity": "ERROR", "message": text}));
                    invalid += 1;
                    continue;
                }
                if let Some((code, text)) = state.warnings.get(&sku) {
                    issues.push(json!({"messageId": id, "sku": sku, "code": code, "severity": "WARNING", "message": text}));
                    warnings += 1;
                }
                let mut listing = message.clone();
                if let Some(map) = listing.as_object_mut() {
                    map.remove("messageId");
                }
                state.listings.insert(sku, listing);
                accepted += 1;
            }
            other => {
                issues.push(json!({"messageId": id, "sku": sku, "code": "4000004", "severity": "ERROR", "message": format!("operationType {other:?} is not served here")}));
                invalid += 1;
            }
        }
    }
    json!({
        "header": {"sellerId": document["header"]["sellerId"], "version": "2.0", "feedId": feed_id},
        "issues": issues,
        "summary": {"errors": invalid, "warnings": warnings, "messagesProcessed": messages.len(), "messagesAccepted": accepted, "messagesInvalid": invalid}
    })
}

fn get_document(state: &mut State, addr: SocketAddr, id: &str) -> Response {
    let Some((_, gzip)) = state.reports.get(id) else {
        return refuse(
            state,
            StatusCode::NOT_FOUND,
            "NotFound",
            format!("no report document {id}"),
        );
    };
    let mut answer = json!({"feedDocumentId": id, "url": format!("http://{addr}/download/{id}")});
    if *gzip {
        answer["compressionAlgorithm"] = Value::String("GZIP".into());
    }
    json_response(StatusCode::OK, &answer)
}

fn download(state: &mut State, id: &str) -> Response {
    match state.reports.get(id) {
        Some((bytes, _)) => Response::builder()
            .status(StatusCode::OK)
            .body(Body::from(bytes.clone()))
            .expect("response"),
        None => refuse(
            state,
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            format!("no report {id}"),
        ),
    }
}
