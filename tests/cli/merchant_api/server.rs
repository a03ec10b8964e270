//! A local Merchant API v1 on 127.0.0.1 for the tests, in the test process. It keeps product
//! inputs and local inventories by name and refuses what the real API refuses: bodies are
//! checked against Google's discovery document (`../shared/reference/channel-apis/`): an
//! unknown field at any depth, a wrong type, an int64 that is not an integer string (a
//! non-integer `amountMicros`), an enum value that does not exist; a missing or foreign
//! `dataSource`; a bearer token it did not issue or that expired. Its token endpoint
//! verifies the JWT's RS256 signature against the test's public key, its issuer, audience,
//! scope and lifetime.
//!
//! Faults are injected per offer id: 429 with Retry-After, 500, a connection dropped in
//! the middle of the answer (after the insert was applied, the worst case), and per-item
//! rejections (400 with a reason).
//!
//! Requests are served concurrently, as Google's are: a body is parsed and checked against
//! the schema without the state's lock, which is held only to look at tokens and to store.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine as _;
use serde_json::{Value, json};

use crate::local_server::LocalServer;
use crate::support::shared;

/// Injected once for an offer id, in order, before the request is handled normally.
#[derive(Debug, Clone)]
pub(crate) enum Fault {
    TooMany {
        retry_after_seconds: u64,
    },
    ServerError,
    /// The request is applied, then the connection drops in the middle of the answer.
    DropAfterApply,
}

/// One request the server applied (accepted), for counting duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Applied {
    pub(crate) method: String,
    /// `lang~label~offer` (and `/store` for a local inventory).
    pub(crate) name: String,
}

pub(crate) struct State {
    pub(crate) account: String,
    pub(crate) data_source: String,
    pub(crate) client_email: String,
    pub(crate) token_url: String,
    public_key: jsonwebtoken::DecodingKey,
    /// Issued token -> when it expires.
    tokens: HashMap<String, Instant>,
    pub(crate) token_lifetime: Duration,
    pub(crate) tokens_issued: usize,
    /// Product input name -> the ProductInput as inserted.
    pub(crate) products: BTreeMap<String, Value>,
    /// (product name, store code) -> the LocalInventory as inserted.
    pub(crate) inventories: BTreeMap<(String, String), Value>,
    pub(crate) faults: HashMap<String, VecDeque<Fault>>,
    /// Offer id -> the reason every insert of it is refused with.
    pub(crate) rejections: HashMap<String, String>,
    pub(crate) applied: Vec<Applied>,
    /// Requests of any kind, including refused ones.
    pub(crate) requests: usize,
    /// When the first and the latest API call (not a token request) came in: the span a
    /// benchmark divides the items by for the rate of sending alone.
    pub(crate) api_calls_between: Option<(Instant, Instant)>,
    /// Each API call waits this long before it is handled (a slower server, so a test can
    /// kill a push mid-way).
    pub(crate) delay: Duration,
    /// Keep each inserted body (tests compare them); a benchmark keeps only the names.
    pub(crate) keep_bodies: bool,
    /// At this request number every issued token is revoked: the next call gets a 401.
    pub(crate) revoke_at_request: Option<usize>,
    /// Shared, so a request checks its body against them without holding the lock.
    schemas: Arc<Value>,
}

pub(crate) type MerchantServer = LocalServer<State>;

impl LocalServer<State> {
    /// Starts a server that trusts `public_key_pem` for `client_email`.
    pub(crate) fn start(public_key_pem: &str, client_email: &str) -> MerchantServer {
        let discovery: Value = serde_json::from_str(
            &std::fs::read_to_string(shared(
                "reference/channel-apis/google-merchant-api/merchantapi.products_v1.discovery.json",
            ))
            .expect("read the discovery document"),
        )
        .expect("discovery document is JSON");
        LocalServer::serve(
            |addr| State {
                account: "123456".into(),
                data_source: "accounts/123456/dataSources/777".into(),
                client_email: client_email.into(),
                token_url: format!("http://{addr}/token"),
                public_key: jsonwebtoken::DecodingKey::from_rsa_pem(public_key_pem.as_bytes())
                    .expect("public key"),
                tokens: HashMap::new(),
                token_lifetime: Duration::from_secs(3600),
                tokens_issued: 0,
                products: BTreeMap::new(),
                inventories: BTreeMap::new(),
                faults: HashMap::new(),
                rejections: HashMap::new(),
                applied: Vec::new(),
                requests: 0,
                api_calls_between: None,
                revoke_at_request: None,
                delay: Duration::ZERO,
                keep_bodies: true,
                schemas: Arc::new(discovery["schemas"].clone()),
            },
            |shared, _| {
                axum::Router::new().fallback(
                    move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                        let state = Arc::clone(&shared);
                        async move {
                            let delay = state.lock().expect("server state").delay;
                            if !delay.is_zero() {
                                tokio::time::sleep(delay).await;
                            }
                            handle(&state, method, uri, headers, body)
                        }
                    },
                )
            },
        )
    }
}

fn error(status: StatusCode, reason: &str, message: &str) -> Response {
    json_response(
        status,
        &json!({"error": {"code": status.as_u16(), "message": message, "status": reason}}),
    )
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
    let mut guard = state.lock().expect("server state");
    guard.requests += 1;
    if guard.revoke_at_request == Some(guard.requests) {
        guard.tokens.clear();
    }
    let path = uri.path().to_owned();
    let query: HashMap<String, String> =
        url::form_urlencoded::parse(uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    if path == "/token" && method == Method::POST {
        return token(&mut guard, &body);
    }
    let now = Instant::now();
    let first = guard.api_calls_between.map_or(now, |(first, _)| first);
    guard.api_calls_between = Some((first, now));
    // Every API call needs a token this server issued and that has not expired.
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let valid =
        bearer.is_some_and(|t| guard.tokens.get(t).is_some_and(|exp| Instant::now() < *exp));
    if !valid {
        return error(
            StatusCode::UNAUTHORIZED,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
        );
    }
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match (method.clone(), parts.as_slice()) {
        (
            Method::POST,
            [
                "products",
                "v1",
                "accounts",
                account,
                "productInputs:insert",
            ],
        ) => {
            if let Some(refusal) = check_account(&guard, account, &query) {
                return refusal;
            }
            let schemas = Arc::clone(&guard.schemas);
            drop(guard);
            // The expensive part, parsing and checking the body, runs unlocked.
            let input = match checked_product(&schemas, &body) {
                Ok(input) => input,
                Err(problem) => {
                    return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &problem);
                }
            };
            insert_product(&mut state.lock().expect("server state"), input)
        }
        (
            Method::DELETE,
            [
                "products",
                "v1",
                "accounts",
                account,
                "productInputs",
                segment,
            ],
        ) => {
            if let Some(refusal) = check_account(&guard, account, &query) {
                return refusal;
            }
            let Some(name) = decode_segment(segment) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "Invalid product input name.",
                );
            };
            let offer = name.splitn(3, '~').nth(2).unwrap_or_default().to_owned();
            if let Some(response) = fault(&mut guard, &offer) {
                return response;
            }
            match guard.products.remove(&name) {
                Some(_) => {
                    guard.applied.push(Applied {
                        method: "DELETE".into(),
                        name,
                    });
                    json_response(StatusCode::OK, &json!({}))
                }
                None => error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "Product input not found.",
                ),
            }
        }
        (
            Method::POST,
            [
                "inventories",
                "v1",
                "accounts",
                account,
                "products",
                segment,
                "localInventories:insert",
            ],
        ) => {
            if *account != guard.account {
                return error(
                    StatusCode::FORBIDDEN,
                    "PERMISSION_DENIED",
                    "The caller does not have access to the account.",
                );
            }
            let Some(product) = decode_segment(segment) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "Invalid product name.",
                );
            };
            insert_inventory(&mut guard, product, &body)
        }
        (
            Method::DELETE,
            [
                "inventories",
                "v1",
                "accounts",
                account,
                "products",
                segment,
                "localInventories",
                store,
            ],
        ) => {
            if *account != guard.account {
                return error(
                    StatusCode::FORBIDDEN,
                    "PERMISSION_DENIED",
                    "The caller does not have access to the account.",
                );
            }
            let Some(product) = decode_segment(segment) else {
                return error(
                    StatusCode::BAD_REQUEST,
                    "INVALID_ARGUMENT",
                    "Invalid product name.",
                );
            };
            let store = percent_decode(store);
            match guard.inventories.remove(&(product.clone(), store.clone())) {
                Some(_) => {
                    guard.applied.push(Applied {
                        method: "DELETE".into(),
                        name: format!("{product}/{store}"),
                    });
                    json_response(StatusCode::OK, &json!({}))
                }
                None => error(
                    StatusCode::NOT_FOUND,
                    "NOT_FOUND",
                    "Local inventory not found.",
                ),
            }
        }
        _ => error(
            StatusCode::NOT_FOUND,
            "NOT_FOUND",
            &format!("No route for {method} {path}"),
        ),
    }
}

fn percent_decode(text: &str) -> String {
    url::form_urlencoded::parse(format!("x={}", text.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// A `{productInput}` segment: plain `lang~label~offer` (tildes present), else unpadded
/// base64url of it (productinputs.proto, `name`).
fn decode_segment(segment: &str) -> Option<String> {
    if segment.contains('~') {
        return Some(segment.to_owned());
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment)
        .ok()?;
    let name = String::from_utf8(bytes).ok()?;
    (name.split('~').count() >= 3).then_some(name)
}

fn check_account(
    state: &State,
    account: &str,
    query: &HashMap<String, String>,
) -> Option<Response> {
    if account != state.account {
        return Some(error(
            StatusCode::FORBIDDEN,
            "PERMISSION_DENIED",
            "The caller does not have access to the account.",
        ));
    }
    match query.get("dataSource") {
        None => Some(error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "dataSource is required.",
        )),
        Some(source) if *source != state.data_source => Some(error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "The data source does not exist or is not an API data source.",
        )),
        Some(_) => None,
    }
}

/// The next fault for `offer`, if one is queued; a drop is applied by the caller.
fn fault(state: &mut State, offer: &str) -> Option<Response> {
    let next = state.faults.get_mut(offer)?.pop_front()?;
    match next {
        Fault::TooMany {
            retry_after_seconds,
        } => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "RESOURCE_EXHAUSTED",
                "quota/request_rate_too_high",
            );
            response.headers_mut().insert(
                "retry-after",
                retry_after_seconds.to_string().parse().expect("header"),
            );
            Some(response)
        }
        Fault::ServerError => Some(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            "Internal error.",
        )),
        Fault::DropAfterApply => {
            state
                .faults
                .entry(offer.to_owned())
                .or_default()
                .push_front(Fault::DropAfterApply);
            None
        }
    }
}

/// Whether the next queued fault of `offer` is a drop after applying; takes it.
fn take_drop(state: &mut State, offer: &str) -> bool {
    let Some(queue) = state.faults.get_mut(offer) else {
        return false;
    };
    if matches!(queue.front(), Some(Fault::DropAfterApply)) {
        queue.pop_front();
        return true;
    }
    false
}

/// An answer cut off in the middle: some bytes, then the connection breaks.
fn dropped() -> Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(Bytes::from_static(b"{\"name\": \"accounts/")),
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

/// The ProductInput in `body` if the real API would take it: valid JSON, every name and
/// value as the discovery document says, the identifying fields present; else the message
/// of the 400 INVALID_ARGUMENT it answers.
fn checked_product(schemas: &Value, body: &[u8]) -> Result<Value, String> {
    let input: Value =
        serde_json::from_slice(body).map_err(|err| format!("Invalid JSON payload: {err}"))?;
    check_schema(schemas, "ProductInput", &input, "")?;
    let text = |field: &str| input.get(field).and_then(Value::as_str).unwrap_or_default();
    for field in ["offerId", "contentLanguage", "feedLabel"] {
        if text(field).is_empty() {
            return Err(format!("[{field}] is required."));
        }
    }
    if text("contentLanguage").len() != 2 {
        return Err("[contentLanguage] must be an ISO 639-1 code.".to_owned());
    }
    if input.get("productAttributes").is_none() {
        return Err("[productAttributes] is required.".to_owned());
    }
    Ok(input)
}

/// Stores a [`checked_product`] input, after the faults and rejections set for its offer.
fn insert_product(state: &mut State, input: Value) -> Response {
    let text = |field: &str| {
        input
            .get(field)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let (offer, language, label) = (text("offerId"), text("contentLanguage"), text("feedLabel"));
    if let Some(response) = fault(state, &offer) {
        return response;
    }
    if let Some(reason) = state.rejections.get(&offer) {
        return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", reason);
    }
    let name = format!("{language}~{label}~{offer}");
    let kept = if state.keep_bodies {
        input
    } else {
        Value::Null
    };
    state.products.insert(name.clone(), kept);
    state.applied.push(Applied {
        method: "INSERT".into(),
        name,
    });
    if take_drop(state, &offer) {
        return dropped();
    }
    json_response(StatusCode::OK, &json!({}))
}

/// LocalInventory (inventories/v1) is not in the products discovery document: its shape is
/// written out here from inventories_common.proto.
fn check_inventory(body: &Value) -> Result<(), String> {
    let object = body.as_object().ok_or("LocalInventory must be an object")?;
    for (key, value) in object {
        match key.as_str() {
            "storeCode" => {
                value.as_str().ok_or("storeCode must be a string")?;
            }
            "localInventoryAttributes" => {
                let attributes = value
                    .as_object()
                    .ok_or("localInventoryAttributes must be an object")?;
                for (key, value) in attributes {
                    match key.as_str() {
                        "price" | "salePrice" => check_price(value, key)?,
                        "quantity" => check_int64(value, key)?,
                        "availability" => check_enum(
                            value,
                            key,
                            &[
                                "IN_STOCK",
                                "LIMITED_AVAILABILITY",
                                "ON_DISPLAY_TO_ORDER",
                                "OUT_OF_STOCK",
                            ],
                        )?,
                        "pickupMethod" => check_enum(
                            value,
                            key,
                            &["BUY", "RESERVE", "SHIP_TO_STORE", "NOT_SUPPORTED"],
                        )?,
                        "pickupSla" => check_enum(
                            value,
                            key,
                            &[
                                "SAME_DAY",
                                "NEXT_DAY",
                                "TWO_DAY",
                                "THREE_DAY",
                                "FOUR_DAY",
                                "FIVE_DAY",
                                "SIX_DAY",
                                "SEVEN_DAY",
                                "MULTI_WEEK",
                            ],
                        )?,
                        "instoreProductLocation" | "localShippingLabel" => {
                            value.as_str().ok_or(format!("{key} must be a string"))?;
                        }
                        "salePriceEffectiveDate" => {
                            let interval = value
                                .as_object()
                                .ok_or("salePriceEffectiveDate must be an object")?;
                            for key in interval.keys() {
                                if key != "startTime" && key != "endTime" {
                                    return Err(format!(
                                        "Unknown name \"{key}\" at 'local_inventory.local_inventory_attributes.sale_price_effective_date'"
                                    ));
                                }
                            }
                        }
                        other => {
                            return Err(format!(
                                "Unknown name \"{other}\" at 'local_inventory.local_inventory_attributes'"
                            ));
                        }
                    }
                }
            }
            other => return Err(format!("Unknown name \"{other}\" at 'local_inventory'")),
        }
    }
    Ok(())
}

fn check_price(value: &Value, key: &str) -> Result<(), String> {
    let object = value
        .as_object()
        .ok_or(format!("{key} must be an object"))?;
    for (field, inner) in object {
        match field.as_str() {
            "amountMicros" => check_int64(inner, "amountMicros")?,
            "currencyCode" => {
                inner.as_str().ok_or("currencyCode must be a string")?;
            }
            other => return Err(format!("Unknown name \"{other}\" at '{key}'")),
        }
    }
    Ok(())
}

fn check_int64(value: &Value, key: &str) -> Result<(), String> {
    match value {
        Value::String(text) if text.parse::<i64>().is_ok() => Ok(()),
        Value::Number(n) if n.is_i64() => Ok(()),
        _ => Err(format!("Invalid value at '{key}' (TYPE_INT64), {value}")),
    }
}

fn check_enum(value: &Value, key: &str, allowed: &[&str]) -> Result<(), String> {
    match value.as_str() {
        Some(text) if allowed.contains(&text) => Ok(()),
        _ => Err(format!("Invalid value at '{key}' (enum), {value}")),
    }
}

fn insert_inventory(state: &mut State, product: String, body: &[u8]) -> Response {
    let input: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(err) => {
            return error(
                StatusCode::BAD_REQUEST,
                "INVALID_ARGUMENT",
                &format!("Invalid JSON payload: {err}"),
            );
        }
    };
    if let Err(problem) = check_inventory(&input) {
        return error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", &problem);
    }
    let Some(store) = input
        .get("storeCode")
        .and_then(Value::as_str)
        .map(str::to_owned)
    else {
        return error(
            StatusCode::BAD_REQUEST,
            "INVALID_ARGUMENT",
            "[storeCode] is required.",
        );
    };
    state
        .inventories
        .insert((product.clone(), store.clone()), input);
    state.applied.push(Applied {
        method: "INSERT".into(),
        name: format!("{product}/{store}"),
    });
    json_response(StatusCode::OK, &json!({}))
}

/// Checks `value` against the discovery schema `schema`, as the API's JSON parser does:
/// unknown names, wrong types, int64 strings, enum names.
fn check_schema(schemas: &Value, schema: &str, value: &Value, at: &str) -> Result<(), String> {
    let properties = &schemas[schema]["properties"];
    let object = value
        .as_object()
        .ok_or_else(|| format!("Invalid value at '{at}' ({schema}), expected an object"))?;
    for (key, inner) in object {
        let Some(property) = properties.get(key) else {
            return Err(format!(
                "Invalid JSON payload received. Unknown name \"{key}\" at '{at}': Cannot find field."
            ));
        };
        let here = if at.is_empty() {
            key.clone()
        } else {
            format!("{at}.{key}")
        };
        check_property(schemas, property, inner, &here)?;
    }
    Ok(())
}

fn check_property(
    schemas: &Value,
    property: &Value,
    value: &Value,
    at: &str,
) -> Result<(), String> {
    if let Some(reference) = property.get("$ref").and_then(Value::as_str) {
        return check_schema(schemas, reference, value, at);
    }
    let kind = property
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("any");
    let invalid = || format!("Invalid value at '{at}' ({kind}), {value}");
    match kind {
        "string" => {
            let text = value.as_str().ok_or_else(invalid)?;
            match property.get("format").and_then(Value::as_str) {
                Some("int64") | Some("uint64") | Some("int32") => {
                    text.parse::<i64>()
                        .map_err(|_| format!("Invalid value at '{at}' (TYPE_INT64), \"{text}\""))?;
                }
                Some("google-datetime") => {
                    text.parse::<jiff::Timestamp>().map_err(|_| format!("Invalid value at '{at}' (type.googleapis.com/google.protobuf.Timestamp), Field '{at}', Invalid time format: \"{text}\""))?;
                }
                _ => {}
            }
            if let Some(allowed) = property.get("enum").and_then(Value::as_array)
                && !allowed.iter().any(|a| a.as_str() == Some(text))
            {
                return Err(format!("Invalid value at '{at}' (enum), \"{text}\""));
            }
            Ok(())
        }
        "boolean" => value.as_bool().map(|_| ()).ok_or_else(invalid),
        "number" => value.as_f64().map(|_| ()).ok_or_else(invalid),
        "integer" => value.as_i64().map(|_| ()).ok_or_else(invalid),
        "array" => {
            let items = value.as_array().ok_or_else(invalid)?;
            for (index, item) in items.iter().enumerate() {
                check_property(schemas, &property["items"], item, &format!("{at}[{index}]"))?;
            }
            Ok(())
        }
        "object" => value.as_object().map(|_| ()).ok_or_else(invalid),
        _ => Ok(()),
    }
}

/// The token endpoint: a JWT bearer grant whose assertion is signed with the test key.
fn token(state: &mut State, body: &[u8]) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(body).into_owned().collect();
    if form.get("grant_type").map(String::as_str)
        != Some("urn:ietf:params:oauth:grant-type:jwt-bearer")
    {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "unsupported_grant_type"}),
        );
    }
    let Some(assertion) = form.get("assertion") else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_request"}),
        );
    };
    #[derive(serde::Deserialize)]
    struct Claims {
        scope: String,
        iat: u64,
        exp: u64,
    }
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&[state.token_url.as_str()]);
    validation.set_issuer(&[state.client_email.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "aud", "iss"]);
    let claims = match jsonwebtoken::decode::<Claims>(assertion, &state.public_key, &validation) {
        Ok(data) => data.claims,
        Err(err) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_grant", "error_description": format!("Invalid JWT: {err}")}),
            );
        }
    };
    if claims.exp.saturating_sub(claims.iat) > 3600
        || !claims
            .scope
            .split(' ')
            .any(|s| s == "https://www.googleapis.com/auth/content")
    {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"error": "invalid_scope", "error_description": "lifetime over an hour or scope missing"}),
        );
    }
    state.tokens_issued += 1;
    let token = format!(
        "ya29.test-token-{}-{}",
        state.tokens_issued,
        std::process::id()
    );
    let lifetime = state.token_lifetime;
    state
        .tokens
        .insert(token.clone(), Instant::now() + lifetime);
    json_response(
        StatusCode::OK,
        &json!({"access_token": token, "expires_in": lifetime.as_secs(), "token_type": "Bearer"}),
    )
}
