//! The Feeds API 2021-06-30 calls, each within its operation's usage plan and retried on
//! 429 (honouring Retry-After), 5xx, timeouts and resets. A refused access token is
//! replaced once; refused again, or any other refusal of a request omnifeed built, is
//! fatal for the feed: every later document would be refused the same way.

use std::io::Read as _;
use std::num::NonZeroU32;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Tokens;
use super::config::{RateLimit, RateLimits};
use crate::push::error_chain;
use crate::push::retry::{RetryPolicy, Verdict, parse_retry_after};
use crate::push::secret::Secret;

const FEEDS: &str = "/feeds/2021-06-30";

/// A failed attempt.
pub(super) use crate::push::retry::ApiFailure as Failure;

/// The model's default usage plans ("Usage Plan" of each operation in
/// feeds_2021-06-30.json).
fn limiter(limit: Option<RateLimit>, default: RateLimit) -> DefaultDirectRateLimiter {
    let limit = limit.unwrap_or(default);
    let period = Duration::from_secs_f64(1.0 / limit.per_second);
    let burst = NonZeroU32::new(limit.burst).unwrap_or(NonZeroU32::MIN);
    let quota = Quota::with_period(period)
        .unwrap_or_else(|| Quota::per_second(NonZeroU32::MIN))
        .allow_burst(burst);
    RateLimiter::direct(quota)
}

struct Limiters {
    create_feed_document: DefaultDirectRateLimiter,
    create_feed: DefaultDirectRateLimiter,
    get_feed: DefaultDirectRateLimiter,
    get_feed_document: DefaultDirectRateLimiter,
}

/// `getFeed`'s answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct FeedStatus {
    pub(super) processing_status: String,
    pub(super) result_feed_document_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DocumentAnswer {
    feed_document_id: String,
    url: String,
    compression_algorithm: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CreateFeedAnswer {
    feed_id: String,
}

/// The SP-API error body: `{"errors": [{"code", "message", "details"}]}`.
#[derive(Deserialize)]
struct ErrorList {
    errors: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    code: Option<String>,
    message: Option<String>,
    details: Option<String>,
}

fn reason(status: StatusCode, body: &[u8]) -> String {
    match serde_json::from_slice::<ErrorList>(body) {
        Ok(list) if !list.errors.is_empty() => list
            .errors
            .iter()
            .map(|error| {
                [&error.code, &error.message, &error.details]
                    .into_iter()
                    .flatten()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(": ")
            })
            .collect::<Vec<_>>()
            .join("; "),
        _ => {
            let text = String::from_utf8_lossy(body);
            let text = text.trim();
            match text.char_indices().nth(200) {
                Some((cut, _)) => format!("{status}: {}…", &text[..cut]),
                None if text.is_empty() => status.to_string(),
                None => format!("{status}: {text}"),
            }
        }
    }
}

fn retry_after(response: &reqwest::Response) -> Option<Duration> {
    response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, jiff::Timestamp::now()))
}

/// The Feeds API of one seller.
pub(super) struct FeedsApi {
    client: reqwest::Client,
    pub(super) tokens: Tokens,
    base: String,
    retry: RetryPolicy,
    limits: Limiters,
}

impl FeedsApi {
    pub(super) fn new(
        client: reqwest::Client,
        tokens: Tokens,
        base: String,
        retry: RetryPolicy,
        limits: &RateLimits,
    ) -> FeedsApi {
        let plan = |per_second, burst| RateLimit { per_second, burst };
        FeedsApi {
            client,
            tokens,
            base,
            retry,
            limits: Limiters {
                create_feed_document: limiter(limits.create_feed_document, plan(0.5, 15)),
                create_feed: limiter(limits.create_feed, plan(0.0083, 15)),
                get_feed: limiter(limits.get_feed, plan(2.0, 15)),
                get_feed_document: limiter(limits.get_feed_document, plan(0.0222, 10)),
            },
        }
    }

    /// One SP-API call, retried; the answer's JSON.
    async fn call(
        &self,
        limiter: &DefaultDirectRateLimiter,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        self.retry
            .run(
                || async {
                    limiter.until_ready().await;
                    self.attempt(method.clone(), path, body).await
                },
                |_, _| {},
            )
            .await
    }

    /// Sends one request (twice when the first token is refused).
    async fn attempt(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, Failure> {
        let url = format!("{}{path}", self.base);
        let mut stale: Option<Secret> = None;
        loop {
            let token = self
                .tokens
                .get(stale.as_ref())
                .await
                .map_err(|err| Failure {
                    message: err.message,
                    verdict: if err.transient {
                        Verdict::Retry
                    } else {
                        Verdict::Fatal
                    },
                })?;
            let mut request = self
                .client
                .request(method.clone(), &url)
                .header("x-amz-access-token", token.expose());
            if let Some(body) = body {
                request = request.json(body);
            }
            let response = request.send().await.map_err(|err| {
                Failure::retry(format!(
                    "{method} {path}: {}",
                    error_chain(&err.without_url())
                ))
            })?;
            let status = response.status();
            // Amazon answers an expired or revoked token with 403 (sometimes 401): one
            // fresh token, then the refusal stands.
            if matches!(status.as_u16(), 401 | 403) && stale.is_none() {
                stale = Some(token);
                continue;
            }
            let wait = retry_after(&response);
            let bytes = response.bytes().await.map_err(|err| {
                Failure::retry(format!(
                    "{method} {path}: the answer was cut off: {}",
                    error_chain(&err.without_url())
                ))
            })?;
            if status.is_success() {
                return serde_json::from_slice(&bytes).map_err(|err| {
                    Failure::retry(format!("{method} {path}: the answer is not JSON: {err}"))
                });
            }
            let why = reason(status, &bytes);
            return Err(match status.as_u16() {
                408 | 429 | 500..=599 => Failure {
                    message: format!("{method} {path}: {status}: {why}"),
                    verdict: wait.map_or(Verdict::Retry, Verdict::RetryAfter),
                },
                401 | 403 => Failure::fatal(format!(
                    "the SP-API refused a fresh access token ({why}); check that the seller \
                     authorized the app and that the app has the Product Listing role"
                )),
                _ => Failure::fatal(format!("{method} {path}: {status}: {why}")),
            });
        }
    }

    /// `createFeedDocument` and the upload to its URL, retried together: a presigned URL
    /// that expired (5 minutes) before a retry is replaced by a new document.
    pub(super) async fn upload_document(
        &self,
        content_type: &str,
        bytes: &[u8],
    ) -> Result<String, Failure> {
        self.retry
            .run(
                || async {
                    self.limits.create_feed_document.until_ready().await;
                    let answer = self
                        .attempt(
                            reqwest::Method::POST,
                            &format!("{FEEDS}/documents"),
                            Some(&json!({ "contentType": content_type })),
                        )
                        .await?;
                    let document: DocumentAnswer = parse(answer, "createFeedDocument")?;
                    let url = crate::push::endpoint::checked_url(&document.url).map_err(|why| {
                        Failure::fatal(format!("createFeedDocument gave the upload URL {why}"))
                    })?;
                    let response = self
                        .client
                        .put(url)
                        .header(reqwest::header::CONTENT_TYPE, content_type)
                        .body(bytes.to_vec())
                        .send()
                        .await
                        .map_err(|err| {
                            Failure::retry(format!(
                                "uploading the feed document: {}",
                                error_chain(&err.without_url())
                            ))
                        })?;
                    let status = response.status();
                    if status.is_success() {
                        return Ok(document.feed_document_id);
                    }
                    let wait = retry_after(&response);
                    let body = response.bytes().await.unwrap_or_default();
                    Err(Failure {
                        message: format!("uploading the feed document: {}", reason(status, &body)),
                        // A refused upload (an expired URL, a Content-Type the storage did
                        // not sign) gets a new document on the retry.
                        verdict: wait.map_or(Verdict::Retry, Verdict::RetryAfter),
                    })
                },
                |_, _| {},
            )
            .await
    }

    /// `createFeed`: the feed's id.
    pub(super) async fn create_feed(
        &self,
        feed_type: &str,
        marketplace_ids: &[String],
        document_id: &str,
    ) -> Result<String, Failure> {
        let body = json!({
            "feedType": feed_type,
            "marketplaceIds": marketplace_ids,
            "inputFeedDocumentId": document_id,
        });
        let answer = self
            .call(
                &self.limits.create_feed,
                reqwest::Method::POST,
                &format!("{FEEDS}/feeds"),
                Some(&body),
            )
            .await?;
        Ok(parse::<CreateFeedAnswer>(answer, "createFeed")?.feed_id)
    }

    /// `getFeed`.
    pub(super) async fn feed_status(&self, feed_id: &str) -> Result<FeedStatus, Failure> {
        let path = format!("{FEEDS}/feeds/{}", segment(feed_id));
        let answer = self
            .call(&self.limits.get_feed, reqwest::Method::GET, &path, None)
            .await?;
        parse(answer, "getFeed")
    }

    /// `getFeedDocument` and the download of its content, gunzipped when marked GZIP;
    /// retried together, as the URL expires after 5 minutes.
    pub(super) async fn download_document(&self, document_id: &str) -> Result<Vec<u8>, Failure> {
        let path = format!("{FEEDS}/documents/{}", segment(document_id));
        self.retry
            .run(
                || async {
                    self.limits.get_feed_document.until_ready().await;
                    let answer = self.attempt(reqwest::Method::GET, &path, None).await?;
                    let document: DocumentAnswer = parse(answer, "getFeedDocument")?;
                    let url = crate::push::endpoint::checked_url(&document.url).map_err(|why| {
                        Failure::fatal(format!("getFeedDocument gave the download URL {why}"))
                    })?;
                    let response = self.client.get(url).send().await.map_err(|err| {
                        Failure::retry(format!(
                            "downloading the processing report: {}",
                            error_chain(&err.without_url())
                        ))
                    })?;
                    let status = response.status();
                    let bytes = response.bytes().await.map_err(|err| {
                        Failure::retry(format!(
                            "downloading the processing report: cut off: {}",
                            error_chain(&err.without_url())
                        ))
                    })?;
                    if !status.is_success() {
                        return Err(Failure::retry(format!(
                            "downloading the processing report: {}",
                            reason(status, &bytes)
                        )));
                    }
                    match document.compression_algorithm.as_deref() {
                        None => Ok(bytes.to_vec()),
                        Some("GZIP") => {
                            let mut out = Vec::new();
                            flate2::read::GzDecoder::new(&bytes[..])
                                .read_to_end(&mut out)
                                .map_err(|err| {
                                    Failure::retry(format!(
                                        "the processing report is marked GZIP but does not \
                                         decompress: {err}"
                                    ))
                                })?;
                            Ok(out)
                        }
                        Some(other) => Err(Failure::fatal(format!(
                            "the processing report is compressed with {other}, which omnifeed \
                             does not know"
                        ))),
                    }
                },
                |_, _| {},
            )
            .await
    }
}

fn parse<T: serde::de::DeserializeOwned>(answer: Value, operation: &str) -> Result<T, Failure> {
    serde_json::from_value(answer)
        .map_err(|err| Failure::retry(format!("{operation} answered an unexpected body: {err}")))
}

/// An id as one URL path segment.
fn segment(id: &str) -> String {
    url::form_urlencoded::byte_serialize(id.as_bytes()).collect()
}
