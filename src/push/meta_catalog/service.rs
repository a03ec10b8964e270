//! One Graph API call and what its answer means: an `items_batch` POST (handles and each
//! item's validation status), a `check_batch_request_status` poll, a catalog read for
//! `push --dry-run`. Graph errors are classified by their code: throttling (4, 17, 32,
//! 613, the catalog's 80000-80014) and transient ones (1, 2, `is_transient`) are retried,
//! honouring the wait Meta names in `X-Business-Use-Case-Usage` or `Retry-After`; a call
//! too large (code 1 "reduce the amount of data") is split by the caller; a refused token
//! (190), a missing permission (10, 200-299), an unknown catalog or a wrong
//! `appsecret_proof` stop the feed.

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use crate::push::retry::{Transient, Verdict, parse_retry_after};

/// A failed attempt.
#[derive(Debug, Clone)]
pub(super) struct Failure {
    pub(super) message: String,
    pub(super) verdict: Verdict,
    /// Meta says the call carries too much data: split it.
    pub(super) too_large: bool,
}

impl Transient for Failure {
    fn verdict(&self) -> Verdict {
        // A call too large fails the same way every time: the caller splits it instead.
        if self.too_large {
            Verdict::Fatal
        } else {
            self.verdict
        }
    }
}

impl Failure {
    fn retry(message: String) -> Failure {
        Failure {
            message,
            verdict: Verdict::Retry,
            too_large: false,
        }
    }

    fn fatal(message: String) -> Failure {
        Failure {
            message,
            verdict: Verdict::Fatal,
            too_large: false,
        }
    }

    /// Fatal for the whole feed, not just this call.
    pub(super) fn is_fatal(&self) -> bool {
        self.verdict == Verdict::Fatal && !self.too_large
    }
}

/// Graph's error body: `{"error": {"message", "type", "code", "error_subcode", …}}`.
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: GraphError,
}

#[derive(Debug, Default, Deserialize)]
struct GraphError {
    #[serde(default)]
    message: String,
    code: Option<i64>,
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: bool,
}

/// A `{message}` of a validation status or a batch status.
#[derive(Debug, Deserialize)]
pub(super) struct Problem {
    #[serde(default)]
    pub(super) message: String,
    /// The retailer id (batch status answers).
    pub(super) id: Option<String>,
    /// The request's position in the call (batch status answers).
    pub(super) line: Option<usize>,
}

#[derive(Debug, Deserialize)]
pub(super) struct ValidationStatus {
    pub(super) retailer_id: String,
    #[serde(default)]
    pub(super) errors: Vec<Problem>,
    #[serde(default)]
    pub(super) warnings: Vec<Problem>,
}

/// The answer to an `items_batch` call.
#[derive(Debug, Deserialize)]
pub(super) struct BatchAnswer {
    #[serde(default)]
    pub(super) handles: Vec<String>,
    #[serde(default)]
    pub(super) validation_status: Vec<ValidationStatus>,
}

/// One handle's processing status.
#[derive(Debug, Deserialize)]
pub(super) struct BatchStatus {
    pub(super) status: String,
    #[serde(default)]
    pub(super) errors: Vec<Problem>,
    #[serde(default)]
    pub(super) warnings: Vec<Problem>,
}

#[derive(Debug, Deserialize)]
struct StatusAnswer {
    data: Vec<BatchStatus>,
}

/// Where a batch's processing stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Progress {
    Pending,
    Finished,
    /// `error` or `canceled`: requests without an error of their own may not be saved.
    Failed,
}

impl BatchStatus {
    pub(super) fn progress(&self) -> Progress {
        match self.status.to_ascii_lowercase().as_str() {
            "finished" => Progress::Finished,
            "error" | "canceled" | "cancelled" => Progress::Failed,
            _ => Progress::Pending,
        }
    }
}

/// POSTs one `items_batch` form.
pub(super) async fn post_batch(
    client: &reqwest::Client,
    url: &url::Url,
    form: String,
) -> Result<BatchAnswer, Failure> {
    let response = client
        .post(url.clone())
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(form)
        .send()
        .await;
    let body = answer("items_batch", response).await?;
    serde_json::from_slice(&body).map_err(|err| {
        Failure::retry(format!(
            "items_batch: an answer that is not Meta's ({err}): {}",
            short(&body)
        ))
    })
}

/// GETs the status of one handle; `url` carries the handle and the credentials.
pub(super) async fn poll(client: &reqwest::Client, url: &url::Url) -> Result<BatchStatus, Failure> {
    let response = client.get(url.clone()).send().await;
    let body = answer("check_batch_request_status", response).await?;
    let answer: StatusAnswer = serde_json::from_slice(&body).map_err(|err| {
        Failure::retry(format!(
            "check_batch_request_status: an answer that is not Meta's ({err}): {}",
            short(&body)
        ))
    })?;
    answer.data.into_iter().next().ok_or_else(|| {
        Failure::retry("check_batch_request_status: an answer without a status".to_owned())
    })
}

/// GETs a JSON object (the catalog, for `push --dry-run`).
pub(super) async fn get_object(
    client: &reqwest::Client,
    url: &url::Url,
) -> Result<serde_json::Value, Failure> {
    let response = client.get(url.clone()).send().await;
    let body = answer("catalog", response).await?;
    serde_json::from_slice(&body)
        .map_err(|err| Failure::fatal(format!("catalog: an answer that is not JSON ({err})")))
}

/// The body of a successful answer, or the failure it stands for. URLs are left out of
/// every message: a GET carries the token in its query.
async fn answer(
    what: &str,
    response: Result<reqwest::Response, reqwest::Error>,
) -> Result<Vec<u8>, Failure> {
    let response = response.map_err(|err| {
        Failure::retry(format!(
            "{what}: {}",
            crate::push::error_chain(&err.without_url())
        ))
    })?;
    let status = response.status();
    let headers = response.headers().clone();
    // A connection dropped mid-body shows here: the answer is unknown, so try again.
    let body = response.bytes().await.map_err(|err| {
        Failure::retry(format!(
            "{what}: the answer was cut off: {}",
            crate::push::error_chain(&err.without_url())
        ))
    })?;
    if status.is_success() && !body.starts_with(b"{\"error\"") {
        return Ok(body.to_vec());
    }
    Err(classify(what, status, &headers, &body))
}

/// What a refused call means.
fn classify(
    what: &str,
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> Failure {
    let parsed = serde_json::from_slice::<ErrorBody>(body)
        .ok()
        .map(|b| b.error);
    let wait = usage_wait(headers).or_else(|| {
        headers
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, jiff::Timestamp::now()))
    });
    let transient = |message: String| Failure {
        message,
        verdict: wait.map_or(Verdict::Retry, Verdict::RetryAfter),
        too_large: false,
    };
    let Some(error) = parsed else {
        let message = format!("{what}: {status}: {}", short(body));
        return match status.as_u16() {
            408 | 429 | 500..=599 => transient(message),
            _ => Failure::fatal(message),
        };
    };
    let code = error.code.unwrap_or_default();
    let detail = match error.error_subcode {
        Some(sub) => format!("{} (code {code}, subcode {sub})", error.message),
        None => format!("{} (code {code})", error.message),
    };
    match code {
        1 if error.message.contains("reduce the amount of data") => Failure {
            message: format!("{what}: {detail}"),
            verdict: Verdict::Fatal,
            too_large: true,
        },
        1 | 2 | 4 | 17 | 32 | 341 | 613 | 80000..=80014 => {
            transient(format!("{what}: throttled or unavailable: {detail}"))
        }
        _ if error.is_transient => transient(format!("{what}: {detail}")),
        190 | 102 => Failure::fatal(format!(
            "{what}: Meta refused the access token: {detail}; create a new system-user token \
             (Business Settings > Users > System users > Generate new token) and set it in \
             the variable token_env names"
        )),
        _ if error.message.contains("appsecret_proof") => Failure::fatal(format!(
            "{what}: {detail}; set the variable app_secret_env names (default META_APP_SECRET) \
             to the secret of the app the token belongs to (App settings > Basic)"
        )),
        10 | 200..=299 => Failure::fatal(format!(
            "{what}: permission denied: {detail}; give the system user the catalog \
             (Business Settings > System users > Assign assets) and the token the \
             catalog_management permission"
        )),
        100 if error.error_subcode == Some(33) => Failure::fatal(format!(
            "{what}: {detail}; check [destination] catalog_id and that the token's system \
             user has the catalog"
        )),
        _ => match status.as_u16() {
            429 | 500..=599 => transient(format!("{what}: {status}: {detail}")),
            _ => Failure::fatal(format!("{what}: Meta refused the call: {detail}")),
        },
    }
}

/// The longest `estimated_time_to_regain_access` (minutes) in `X-Business-Use-Case-Usage`:
/// `{"<business id>": [{"type": "catalog_batch", "estimated_time_to_regain_access": 3, …}]}`.
fn usage_wait(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let text = headers.get("x-business-use-case-usage")?.to_str().ok()?;
    let usage: serde_json::Value = serde_json::from_str(text).ok()?;
    let minutes = usage
        .as_object()?
        .values()
        .filter_map(serde_json::Value::as_array)
        .flatten()
        .filter_map(|entry| entry.get("estimated_time_to_regain_access")?.as_u64())
        .max()?;
    (minutes > 0).then(|| Duration::from_secs(minutes * 60))
}

/// The start of a body, for a message (Graph bodies never echo the token).
fn short(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(code: i64, subcode: Option<i64>, message: &str) -> Vec<u8> {
        serde_json::json!({"error": {"message": message, "type": "OAuthException",
            "code": code, "error_subcode": subcode, "fbtrace_id": "x"}})
        .to_string()
        .into_bytes()
    }

    #[test]
    fn graph_errors_are_classified_by_code() {
        let headers = reqwest::header::HeaderMap::new();
        let bad = StatusCode::BAD_REQUEST;
        let throttled = classify("c", bad, &headers, &error(80014, None, "too many calls"));
        assert_eq!(throttled.verdict(), Verdict::Retry);
        for code in [4, 17, 32, 613] {
            assert_eq!(
                classify("c", bad, &headers, &error(code, None, "limit")).verdict(),
                Verdict::Retry
            );
        }
        let expired = classify("c", bad, &headers, &error(190, Some(463), "expired"));
        assert!(expired.is_fatal());
        assert!(expired.message.contains("new system-user token"));
        let proof = classify(
            "c",
            bad,
            &headers,
            &error(
                100,
                None,
                "Invalid appsecret_proof provided in the API argument",
            ),
        );
        assert!(proof.is_fatal() && proof.message.contains("META_APP_SECRET"));
        let large = classify(
            "c",
            bad,
            &headers,
            &error(
                1,
                None,
                "Please reduce the amount of data you're asking for, then retry your request",
            ),
        );
        assert!(large.too_large && !large.is_fatal());
        assert_eq!(
            classify("c", StatusCode::BAD_GATEWAY, &headers, b"").verdict(),
            Verdict::Retry
        );
        assert!(classify("c", StatusCode::NOT_FOUND, &headers, b"no").is_fatal());
    }

    #[test]
    fn the_business_use_case_header_names_the_wait() {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            "x-business-use-case-usage",
            r#"{"1234":[{"type":"catalog_batch","call_count":100,"estimated_time_to_regain_access":2}]}"#
                .parse()
                .unwrap(),
        );
        let failure = classify(
            "c",
            StatusCode::BAD_REQUEST,
            &headers,
            &error(80014, None, "too many calls"),
        );
        assert_eq!(
            failure.verdict(),
            Verdict::RetryAfter(Duration::from_secs(120))
        );
    }
}
