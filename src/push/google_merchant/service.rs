//! One request to the Merchant API, and what its answer means for the item: accepted,
//! rejected for a reason a retry cannot fix (400 and other validation errors), worth
//! another try (429, 5xx, timeouts, resets, a body cut off), or fatal for the whole feed
//! (the token refused twice, no permission on the account).

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;

use super::auth::{Tokens, err_chain, short};
use crate::push::retry::{Verdict, parse_retry_after};
use crate::push::secret::Secret;

/// One HTTP request for one item.
#[derive(Debug, Clone)]
pub(super) struct ApiRequest {
    pub(super) method: reqwest::Method,
    pub(super) url: url::Url,
    pub(super) body: Option<serde_json::Value>,
    /// A 404 refuses this item (a local inventory for an unknown product) rather than the
    /// whole feed (an unknown account or data source).
    pub(super) not_found_rejects_item: bool,
    /// A 404 means the item is already gone: a delete that has nothing to delete succeeded.
    pub(super) not_found_is_done: bool,
}

/// The channel's final word on one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Answer {
    Accepted,
    Rejected(String),
}

/// A failed attempt.
pub(super) use crate::push::retry::ApiFailure as Failure;

/// Google's error body: `{"error": {"code", "message", "status"}}`.
#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    message: Option<String>,
    status: Option<String>,
}

/// The reason in an error body, or the start of the body.
fn reason(status: StatusCode, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorBody>(body) {
        Ok(ErrorBody { error }) => match (error.status, error.message) {
            (Some(code), Some(message)) => format!("{code}: {message}"),
            (None, Some(message)) => message,
            (Some(code), None) => code,
            (None, None) => status.to_string(),
        },
        Err(_) => format!("{status}: {}", short(&String::from_utf8_lossy(body))),
    }
}

/// Sends `request` once (twice when the first token is refused with 401).
pub(super) async fn attempt(
    client: &reqwest::Client,
    tokens: &Tokens,
    request: &ApiRequest,
) -> Result<Answer, Failure> {
    let mut stale: Option<Secret> = None;
    loop {
        let token = tokens.get(stale.as_ref()).await.map_err(|err| Failure {
            message: err.message,
            verdict: if err.transient {
                Verdict::Retry
            } else {
                Verdict::Fatal
            },
        })?;
        let mut builder = client
            .request(request.method.clone(), request.url.clone())
            .bearer_auth(token.expose());
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        let response = builder.send().await.map_err(|err| {
            Failure::retry(format!(
                "{} {}: {}",
                request.method,
                request.url.path(),
                err_chain(&err)
            ))
        })?;
        let status = response.status();
        if status == StatusCode::UNAUTHORIZED && stale.is_none() {
            // The token may have been revoked or expired early: one fresh one.
            stale = Some(token);
            continue;
        }
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| parse_retry_after(value, jiff::Timestamp::now()));
        // A connection dropped mid-body shows here: the answer is unknown, so try again.
        let body = response.bytes().await.map_err(|err| {
            Failure::retry(format!(
                "{} {}: the answer was cut off: {}",
                request.method,
                request.url.path(),
                err_chain(&err)
            ))
        })?;
        return classify(status, &body, retry_after, request);
    }
}

fn classify(
    status: StatusCode,
    body: &[u8],
    retry_after: Option<Duration>,
    request: &ApiRequest,
) -> Result<Answer, Failure> {
    if status.is_success() {
        return Ok(Answer::Accepted);
    }
    let reason = reason(status, body);
    match status.as_u16() {
        404 if request.not_found_is_done => Ok(Answer::Accepted),
        404 if request.not_found_rejects_item => Ok(Answer::Rejected(reason)),
        429 | 500..=599 | 408 => Err(Failure {
            message: format!("{status}: {reason}"),
            verdict: retry_after.map_or(Verdict::Retry, Verdict::RetryAfter),
        }),
        401 => Err(Failure::fatal(format!(
            "the API refused a freshly issued token ({reason}); check the service account"
        ))),
        403 => Err(Failure::fatal(format!(
            "permission denied ({reason}); add the service account as a user of the Merchant \
             Center account, and enable the Merchant API in its Google Cloud project"
        ))),
        404 => Err(Failure::fatal(format!(
            "not found ({reason}); check [destination] account and data_source"
        ))),
        _ => Ok(Answer::Rejected(reason)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(delete: bool) -> ApiRequest {
        ApiRequest {
            method: reqwest::Method::POST,
            url: "http://127.0.0.1/x".parse().unwrap(),
            body: None,
            not_found_rejects_item: false,
            not_found_is_done: delete,
        }
    }

    #[test]
    fn answers_are_classified() {
        let body = br#"{"error":{"code":400,"message":"bad price","status":"INVALID_ARGUMENT"}}"#;
        assert_eq!(
            classify(StatusCode::BAD_REQUEST, body, None, &request(false)).unwrap(),
            Answer::Rejected("INVALID_ARGUMENT: bad price".into())
        );
        let failure = classify(
            StatusCode::TOO_MANY_REQUESTS,
            b"",
            Some(Duration::from_secs(2)),
            &request(false),
        )
        .unwrap_err();
        assert_eq!(failure.verdict, Verdict::RetryAfter(Duration::from_secs(2)));
        assert_eq!(
            classify(StatusCode::BAD_GATEWAY, b"", None, &request(false))
                .unwrap_err()
                .verdict,
            Verdict::Retry
        );
        assert!(
            classify(StatusCode::FORBIDDEN, b"", None, &request(false))
                .unwrap_err()
                .is_fatal()
        );
        assert_eq!(
            classify(StatusCode::NOT_FOUND, b"", None, &request(true)).unwrap(),
            Answer::Accepted
        );
    }
}
