//! One file sent in one request, and the retry loop around it. The body is streamed from
//! disk with its length declared up front (presigned URLs and most receivers refuse a
//! chunked upload), and reopened for each attempt: nothing is held in memory.

use std::path::Path;
use std::time::Duration;

use futures::stream;
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use tokio::io::AsyncReadExt;

use crate::push::retry::{RetryPolicy, Transient, Verdict, parse_retry_after};
use crate::report::progress::Progress;

/// Bytes read from disk per body chunk.
const CHUNK: usize = 256 * 1024;
/// How much of a refusal's body is shown.
const SHOWN_BODY: usize = 400;

/// What one file's request is made of.
pub(super) struct FileRequest<'a> {
    pub(super) client: &'a reqwest::Client,
    pub(super) method: reqwest::Method,
    pub(super) url: &'a str,
    pub(super) headers: &'a HeaderMap,
    pub(super) content_type: &'static str,
    pub(super) file: &'a Path,
}

/// Why a request did not deliver the file.
#[derive(Debug, thiserror::Error)]
pub(super) enum Failure {
    #[error("answered {status}{}", body_suffix(.body))]
    Status {
        status: StatusCode,
        retry_after: Option<Duration>,
        body: String,
    },
    #[error("answered {status}, a redirect to {location}; uploads do not follow redirects")]
    Redirect {
        status: StatusCode,
        location: String,
    },
    /// No answer: refused or reset connection, timeout.
    #[error("no answer: {}", chain(.0))]
    Connection(#[source] reqwest::Error),
    /// The server's certificate was refused: retrying cannot help.
    #[error("TLS refused: {}", chain(.0))]
    Tls(#[source] reqwest::Error),
    #[error("cannot read the staged file: {0}")]
    Read(#[source] std::io::Error),
}

impl Transient for Failure {
    fn verdict(&self) -> Verdict {
        match self {
            Failure::Status {
                status,
                retry_after,
                ..
            } if status.is_server_error()
                || *status == StatusCode::TOO_MANY_REQUESTS
                || *status == StatusCode::REQUEST_TIMEOUT =>
            {
                retry_after.map_or(Verdict::Retry, Verdict::RetryAfter)
            }
            Failure::Connection(_) => Verdict::Retry,
            _ => Verdict::Fatal,
        }
    }
}

fn body_suffix(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

fn chain(err: &reqwest::Error) -> String {
    crate::push::error_chain(err)
}

/// Whether `err` is a failed TLS handshake (a certificate not trusted, expired, for another
/// name; no protocol in common): trying again meets the same certificate. The rustls error
/// travels inside I/O errors, whose `source()` skips the value they wrap, so each is
/// unwrapped by hand.
fn is_tls_refusal(err: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(err);
    while let Some(mut cause) = source {
        source = cause.source();
        loop {
            if cause.is::<rustls::Error>() {
                return true;
            }
            if let Some(inner) = cause
                .downcast_ref::<std::io::Error>()
                .and_then(|io| io.get_ref())
            {
                cause = inner;
            } else {
                break;
            }
        }
    }
    false
}

/// Sends the file, retrying as [`Failure::verdict`] says; `on_retry` hears each retried
/// failure and the wait before the next attempt. `progress` advances from `done`.
pub(super) async fn send_with_retries(
    request: &FileRequest<'_>,
    policy: &RetryPolicy,
    progress: &Progress,
    done: u64,
    on_retry: impl FnMut(&Failure, Duration),
) -> Result<StatusCode, Failure> {
    policy
        .run(|| send_once(request, progress, done), on_retry)
        .await
}

/// One attempt.
async fn send_once(
    request: &FileRequest<'_>,
    progress: &Progress,
    done: u64,
) -> Result<StatusCode, Failure> {
    let file = tokio::fs::File::open(request.file)
        .await
        .map_err(Failure::Read)?;
    let size = file.metadata().await.map_err(Failure::Read)?.len();
    progress.set(done);
    let counter = progress.clone();
    let body = stream::try_unfold((file, done), move |(mut file, sent)| {
        let counter = counter.clone();
        async move {
            let mut chunk = vec![0; CHUNK];
            let read = file.read(&mut chunk).await?;
            if read == 0 {
                return Ok::<_, std::io::Error>(None);
            }
            chunk.truncate(read);
            counter.set(sent + read as u64);
            Ok(Some((chunk, (file, sent + read as u64))))
        }
    });
    let mut headers = request.headers.clone();
    if !headers.contains_key(CONTENT_TYPE) {
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(request.content_type));
    }
    headers.insert(CONTENT_LENGTH, HeaderValue::from(size));
    let response = request
        .client
        .request(request.method.clone(), request.url)
        .headers(headers)
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .map_err(|err| {
            if is_tls_refusal(&err) {
                Failure::Tls(err)
            } else {
                Failure::Connection(err)
            }
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(status);
    }
    if status.is_redirection() {
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map_or_else(|| "nowhere".to_owned(), super::config::without_query);
        return Err(Failure::Redirect { status, location });
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, jiff::Timestamp::now()));
    // The body explains a refusal (S3's `<Code>SignatureDoesNotMatch</Code>`); a part of
    // it is enough, and a dead connection while reading it leaves the status to tell.
    let text = response.text().await.unwrap_or_default();
    let body: String = text.trim().chars().take(SHOWN_BODY).collect();
    Err(Failure::Status {
        status,
        retry_after,
        body,
    })
}
