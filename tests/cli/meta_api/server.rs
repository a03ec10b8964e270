//! A local Graph API for Meta catalogs on 127.0.0.1, in the test process. It keeps product
//! items by retailer id and refuses what Meta refuses: a missing, unknown or expired access
//! token (code 190); a missing or wrong `appsecret_proof` when the app requires one; a
//! version that is not `vNN.N`; another catalog (code 100, subcode 33); an `item_type` other
//! than `PRODUCT_ITEM`; more than 5,000 requests in one call; a call over 28 MB (code 1,
//! "reduce the amount of data"). Per request it refuses (in `validation_status`) unknown
//! methods, fields that are not ProductItem fields or feed columns
//! (`../shared/reference/channel-apis/meta-graph-catalog/ProductItem.json`), a price that is
//! not `9.99 USD`, an availability or condition Meta does not know, an item created without
//! a required field, and errors the test names. `UPDATE` with `allow_upsert` creates a
//! missing item or replaces the fields sent (`""` or `[]` clears one); `DELETE` removes one.
//!
//! Handles stay `started` for `in_progress_polls` polls, then `finished`, carrying the
//! errors that show only in processing (those items are not saved). Faults are injected per
//! `items_batch` call: 429 with Retry-After, a throttling answer (code 80014), 500, a
//! connection dropped after the call was applied; and the token can expire at a given call.

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use hmac::{KeyInit, Mac};
use serde_json::{Map, Value, json};

use crate::local_server::LocalServer;
use crate::support::shared;

pub(crate) const CATALOG: &str = "4242";
const MAX_REQUESTS: usize = 5000;
const MAX_BYTES: usize = 28_000_000;
/// Feed columns Meta's batch API takes besides the ProductItem fields.
const FEED_FIELDS: &[&str] = &[
    "title",
    "link",
    "image_link",
    "additional_image_link",
    "item_group_id",
    "google_product_category",
    "mpn",
    "sale_price_effective_date",
    "shipping",
    "shipping_weight",
];
const REQUIRED: &[&str] = &[
    "title",
    "description",
    "availability",
    "condition",
    "price",
    "link",
    "image_link",
];
const AVAILABILITY: &[&str] = &[
    "in stock",
    "out of stock",
    "preorder",
    "available for order",
    "discontinued",
];
const CONDITION: &[&str] = &["new", "refurbished", "used"];

/// Injected into the next `items_batch` calls, in order, before they are handled.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    TooMany {
        retry_after_seconds: u64,
    },
    /// HTTP 400, code 80014, with X-Business-Use-Case-Usage.
    Throttled,
    ServerError,
    /// Code 1, "reduce the amount of data": the call is too large.
    TooLarge,
    /// The call is applied, then the connection drops in the middle of the answer.
    DropAfterApply,
}

/// One request the server applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    pub(crate) method: String,
    pub(crate) id: String,
    /// The item did not exist before.
    pub(crate) created: bool,
}

struct Handle {
    polls_left: usize,
    errors: Vec<Value>,
    warnings: Vec<Value>,
}

pub(crate) struct State {
    pub(crate) tokens: HashSet<String>,
    pub(crate) expired: HashSet<String>,
    pub(crate) app_secret: Option<String>,
    pub(crate) items: BTreeMap<String, Map<String, Value>>,
    pub(crate) applied: Vec<Applied>,
    /// Retailer id -> the error every request for it gets in `validation_status`.
    pub(crate) rejections: HashMap<String, String>,
    /// Retailer id -> an error that shows only in `check_batch_request_status`.
    pub(crate) late_rejections: HashMap<String, String>,
    pub(crate) warnings: HashMap<String, String>,
    pub(crate) in_progress_polls: usize,
    pub(crate) faults: VecDeque<Fault>,
    /// At this `items_batch` call (1-based) every token expires.
    pub(crate) expire_at_call: Option<usize>,
    pub(crate) calls: usize,
    pub(crate) polls: usize,
    pub(crate) largest_call: usize,
    /// Keep each item's fields (tests compare them); a benchmark keeps only the ids.
    pub(crate) keep_fields: bool,
    /// The token lacks `catalog_management`: every write is refused (code 200).
    pub(crate) refuse_writes: bool,
    handles: HashMap<String, Handle>,
    known_fields: HashSet<String>,
}

pub(crate) type GraphServer = LocalServer<State>;

impl LocalServer<State> {
    /// Starts a server that accepts `token`, and requires `appsecret_proof` when
    /// `app_secret` is given.
    pub(crate) fn start(token: &str, app_secret: Option<&str>) -> GraphServer {
        let spec: Value = serde_json::from_str(
            &std::fs::read_to_string(shared(
                "reference/channel-apis/meta-graph-catalog/ProductItem.json",
            ))
            .expect("read ProductItem.json"),
        )
        .expect("ProductItem.json is JSON");
        let mut known_fields: HashSet<String> = spec["fields"]
            .as_array()
            .expect("fields")
            .iter()
            .map(|f| f["name"].as_str().expect("name").to_owned())
            .collect();
        known_fields.extend(FEED_FIELDS.iter().map(|f| (*f).to_owned()));
        LocalServer::serve(
            |_| State {
                tokens: HashSet::from([token.to_owned()]),
                expired: HashSet::new(),
                app_secret: app_secret.map(str::to_owned),
                items: BTreeMap::new(),
                applied: Vec::new(),
                rejections: HashMap::new(),
                late_rejections: HashMap::new(),
                warnings: HashMap::new(),
                in_progress_polls: 0,
                faults: VecDeque::new(),
                expire_at_call: None,
                calls: 0,
                polls: 0,
                largest_call: 0,
                keep_fields: true,
                refuse_writes: false,
                handles: HashMap::new(),
                known_fields,
            },
            |shared, _| {
                axum::Router::new()
                    .fallback(
                        move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                            let state = Arc::clone(&shared);
                            async move { handle(&state, method, uri, headers, body) }
                        },
                    )
                    .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
            },
        )
    }
}

/// Hex HMAC-SHA256 of `token` keyed by `secret`, as Meta computes `appsecret_proof`.
pub(crate) fn proof(secret: &str, token: &str) -> String {
    let mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("key")
        .chain_update(token.as_bytes())
        .finalize()
        .into_bytes();
    mac.iter().map(|b| format!("{b:02x}")).collect()
}

fn graph_error(status: StatusCode, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let mut error = json!({"message": message, "type": "OAuthException", "code": code,
        "fbtrace_id": "AbCdEf"});
    if let Some(subcode) = subcode {
        error["error_subcode"] = subcode.into();
    }
    json_response(status, &json!({ "error": error }))
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .expect("response")
}

fn handle(
    state: &Mutex<State>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut state = state.lock().expect("server state");
    let mut params: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if method == Method::POST {
        let form = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !form {
            return graph_error(
                StatusCode::BAD_REQUEST,
                100,
                None,
                "(#100) Expected a form-encoded body",
            );
        }
        if body.len() > MAX_BYTES {
            return graph_error(
                StatusCode::BAD_REQUEST,
                1,
                None,
                "Please reduce the amount of data you're asking for, then retry your request",
            );
        }
        params.extend(url::form_urlencoded::parse(&body).into_owned());
    }
    let parts: Vec<&str> = uri.path().trim_start_matches('/').split('/').collect();
    let (version, catalog, edge) = match parts.as_slice() {
        [version, catalog] => (*version, *catalog, ""),
        [version, catalog, edge] => (*version, *catalog, *edge),
        _ => {
            return graph_error(
                StatusCode::BAD_REQUEST,
                2500,
                None,
                "Unknown path components",
            );
        }
    };
    let valid_version = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(a, b)| {
            !a.is_empty()
                && a.chars().all(|c| c.is_ascii_digit())
                && !b.is_empty()
                && b.chars().all(|c| c.is_ascii_digit())
        });
    if !valid_version {
        return graph_error(
            StatusCode::BAD_REQUEST,
            2635,
            None,
            "Unknown Graph API version",
        );
    }
    if method == Method::POST && edge == "items_batch" {
        state.calls += 1;
        if state.expire_at_call == Some(state.calls) {
            let tokens: Vec<String> = state.tokens.drain().collect();
            state.expired.extend(tokens);
        }
    }
    if let Some(refusal) = check_auth(&state, &params) {
        return refusal;
    }
    if catalog != CATALOG {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            Some(33),
            &format!(
                "Unsupported request. Object with ID '{catalog}' does not exist, cannot be \
                 loaded due to missing permissions, or does not support this operation"
            ),
        );
    }
    match (method, edge) {
        (Method::GET, "") => json_response(
            StatusCode::OK,
            &json!({"id": CATALOG, "name": "Test catalog", "product_count": state.items.len()}),
        ),
        (Method::POST, "items_batch") => items_batch(&mut state, &params),
        (Method::GET, "check_batch_request_status") => {
            state.polls += 1;
            let Some(id) = params.get("handle") else {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "(#100) The parameter handle is required",
                );
            };
            let Some(handle) = state.handles.get_mut(id) else {
                return graph_error(StatusCode::BAD_REQUEST, 100, None, "(#100) Invalid handle");
            };
            if handle.polls_left > 0 {
                handle.polls_left -= 1;
                return json_response(
                    StatusCode::OK,
                    &json!({"data": [{"status": "started", "errors_total_count": 0,
                        "errors": [], "warnings": [], "ids_of_invalid_requests": []}]}),
                );
            }
            json_response(
                StatusCode::OK,
                &json!({"data": [{"status": "finished",
                    "errors_total_count": handle.errors.len(),
                    "errors": handle.errors, "warnings": handle.warnings,
                    "ids_of_invalid_requests": []}]}),
            )
        }
        (method, edge) => graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            &format!("Unsupported {method} request on edge `{edge}`"),
        ),
    }
}

fn check_auth(state: &State, params: &HashMap<String, String>) -> Option<Response> {
    let Some(token) = params.get("access_token") else {
        return Some(graph_error(
            StatusCode::BAD_REQUEST,
            104,
            None,
            "An access token is required to request this resource.",
        ));
    };
    if state.expired.contains(token) {
        return Some(graph_error(
            StatusCode::BAD_REQUEST,
            190,
            Some(463),
            "Error validating access token: Session has expired.",
        ));
    }
    if !state.tokens.contains(token) {
        return Some(graph_error(
            StatusCode::BAD_REQUEST,
            190,
            None,
            "Invalid OAuth access token - Cannot parse access token",
        ));
    }
    if let Some(secret) = &state.app_secret {
        match params.get("appsecret_proof") {
            None => {
                return Some(graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "API calls from the server require an appsecret_proof argument",
                ));
            }
            Some(sent) if *sent != proof(secret, token) => {
                return Some(graph_error(
                    StatusCode::BAD_REQUEST,
                    100,
                    None,
                    "Invalid appsecret_proof provided in the API argument",
                ));
            }
            Some(_) => {}
        }
    }
    None
}

fn items_batch(state: &mut State, params: &HashMap<String, String>) -> Response {
    if params.get("item_type").map(String::as_str) != Some("PRODUCT_ITEM") {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) Param item_type must be one of {PRODUCT_ITEM, …}",
        );
    }
    let upsert = params.get("allow_upsert").is_none_or(|v| v == "true");
    let Some(requests) = params
        .get("requests")
        .and_then(|text| serde_json::from_str::<Value>(text).ok())
        .and_then(|value| value.as_array().cloned())
    else {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) Param requests must be a JSON array",
        );
    };
    if requests.len() > MAX_REQUESTS {
        return graph_error(
            StatusCode::BAD_REQUEST,
            100,
            None,
            "(#100) The number of requests in a batch cannot exceed 5000",
        );
    }
    if state.refuse_writes {
        return graph_error(
            StatusCode::FORBIDDEN,
            200,
            None,
            "(#200) Requires catalog_management permission to manage the object",
        );
    }
    state.largest_call = state.largest_call.max(requests.len());
    let mut drop_after = false;
    if let Some(fault) = state.faults.pop_front() {
        match fault {
            Fault::TooMany {
                retry_after_seconds,
            } => {
                let mut response = graph_error(
                    StatusCode::TOO_MANY_REQUESTS,
                    4,
                    None,
                    "(#4) Application request limit reached",
                );
                response.headers_mut().insert(
                    "retry-after",
                    retry_after_seconds.to_string().parse().expect("header"),
                );
                return response;
            }
            Fault::Throttled => {
                let mut response = graph_error(
                    StatusCode::BAD_REQUEST,
                    80014,
                    None,
                    "There have been too many calls for the batch uploads to this catalog account.",
                );
                response.headers_mut().insert(
                    "x-business-use-case-usage",
                    format!(
                        "{{\"{CATALOG}\":[{{\"type\":\"catalog_batch\",\"call_count\":100,\
                         \"estimated_time_to_regain_access\":0}}]}}"
                    )
                    .parse()
                    .expect("header"),
                );
                return response;
            }
            Fault::ServerError => {
                return json_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"error": {"message": "An unexpected error has occurred. Please retry your request later.",
                        "type": "OAuthException", "code": 2, "is_transient": true}}),
                );
            }
            Fault::TooLarge => {
                return graph_error(
                    StatusCode::BAD_REQUEST,
                    1,
                    None,
                    "Please reduce the amount of data you're asking for, then retry your request",
                );
            }
            Fault::DropAfterApply => drop_after = true,
        }
    }
    let mut statuses = Vec::new();
    let mut late_errors = Vec::new();
    let mut warnings = Vec::new();
    let mut ingested = 0;
    for (line, request) in requests.iter().enumerate() {
        let id = request["data"]["id"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let mut errors = check_request(state, request, upsert);
        if let Some(reason) = state.rejections.get(&id) {
            errors.push(reason.clone());
        }
        let mut item_warnings = Vec::new();
        if let Some(warning) = state.warnings.get(&id) {
            item_warnings.push(json!({"message": warning}));
        }
        if !errors.is_empty() || !item_warnings.is_empty() {
            statuses.push(json!({
                "retailer_id": id,
                "errors": errors.iter().map(|m| json!({"message": m})).collect::<Vec<_>>(),
                "warnings": item_warnings,
            }));
        }
        if !errors.is_empty() {
            continue;
        }
        ingested += 1;
        if let Some(reason) = state.late_rejections.get(&id) {
            late_errors.push(json!({"line": line, "id": id, "message": reason}));
            continue;
        }
        apply(state, request);
        if let Some(warning) = state.warnings.get(&id) {
            warnings.push(json!({"line": line, "id": id, "message": warning}));
        }
    }
    let mut handles = Vec::new();
    if ingested > 0 {
        let handle = format!("handle-{}", state.calls);
        state.handles.insert(
            handle.clone(),
            Handle {
                polls_left: state.in_progress_polls,
                errors: late_errors,
                warnings,
            },
        );
        handles.push(handle);
    }
    if drop_after {
        return dropped();
    }
    json_response(
        StatusCode::OK,
        &json!({"handles": handles, "validation_status": statuses}),
    )
}

/// Why Meta refuses `request`, per its validation.
fn check_request(state: &State, request: &Value, upsert: bool) -> Vec<String> {
    let mut errors = Vec::new();
    let method = request["method"].as_str().unwrap_or_default();
    let Some(data) = request["data"].as_object() else {
        return vec!["Invalid request: `data` must be an object".into()];
    };
    let Some(id) = data
        .get("id")
        .and_then(Value::as_str)
        .filter(|id| !id.is_empty())
    else {
        return vec!["Invalid request: `data.id` (the retailer id) is required".into()];
    };
    let exists = state.items.contains_key(id);
    match method {
        "DELETE" => return errors,
        "CREATE" if exists => errors.push(format!("An item with id {id} already exists")),
        "UPDATE" if !exists && !upsert => {
            errors.push(format!(
                "Item {id} does not exist and allow_upsert is false"
            ));
        }
        "CREATE" | "UPDATE" => {}
        other => {
            return vec![format!(
                "Invalid method `{other}`: use CREATE, UPDATE or DELETE"
            )];
        }
    }
    for (name, value) in data {
        if !state.known_fields.contains(name) {
            errors.push(format!("Unknown field `{name}` for PRODUCT_ITEM"));
            continue;
        }
        let text = value.as_str();
        match name.as_str() {
            "price" | "sale_price" if text.is_some_and(|t| !t.is_empty() && !is_price(t)) => {
                errors.push(format!(
                    "Invalid value for {name}: `{}`; use a number and an ISO 4217 code, e.g. 9.99 USD",
                    text.unwrap_or_default()
                ));
            }
            "availability" if text.is_some_and(|t| !t.is_empty() && !AVAILABILITY.contains(&t)) => {
                errors.push(format!(
                    "Invalid availability `{}`",
                    text.unwrap_or_default()
                ));
            }
            "condition" if text.is_some_and(|t| !t.is_empty() && !CONDITION.contains(&t)) => {
                errors.push(format!("Invalid condition `{}`", text.unwrap_or_default()));
            }
            "additional_image_link" if !value.is_array() => {
                errors.push("additional_image_link must be a list of URLs".into());
            }
            _ => {}
        }
    }
    // A new item needs every required field; an existing one may not lose one.
    for field in REQUIRED {
        let sent = data.get(*field).and_then(Value::as_str);
        let missing = match sent {
            Some("") => true,
            Some(_) => false,
            None => !exists,
        };
        if missing {
            errors.push(format!(
                "You cannot create a EntProductItem without required field {field}"
            ));
        }
    }
    errors
}

fn is_price(text: &str) -> bool {
    let Some((amount, currency)) = text.split_once(' ') else {
        return false;
    };
    let (whole, fraction) = amount.split_once('.').unwrap_or((amount, "0"));
    !whole.is_empty()
        && whole.chars().all(|c| c.is_ascii_digit())
        && fraction.chars().all(|c| c.is_ascii_digit())
        && currency.len() == 3
        && currency.chars().all(|c| c.is_ascii_uppercase())
}

fn apply(state: &mut State, request: &Value) {
    let data = request["data"].as_object().expect("checked");
    let id = data["id"].as_str().expect("checked").to_owned();
    let method = request["method"].as_str().expect("checked").to_owned();
    if method == "DELETE" {
        state.items.remove(&id);
        state.applied.push(Applied {
            method,
            id,
            created: false,
        });
        return;
    }
    let created = !state.items.contains_key(&id);
    let keep = state.keep_fields;
    let item = state.items.entry(id.clone()).or_default();
    if keep {
        for (name, value) in data {
            let empty = value.as_str() == Some("") || value.as_array().is_some_and(Vec::is_empty);
            if empty {
                item.remove(name);
            } else {
                item.insert(name.clone(), value.clone());
            }
        }
    }
    state.applied.push(Applied {
        method,
        id,
        created,
    });
}

/// An answer cut off in the middle: some bytes, then the connection breaks.
fn dropped() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"handles\": [")),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "dropped",
        )),
    ];
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/json")
        .header("content-length", "4096")
        .body(Body::from_stream(futures::stream::iter(chunks)))
        .expect("response")
}
