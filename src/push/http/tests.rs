//! The request loop against a real HTTP server on 127.0.0.1, with tokio's clock paused: a
//! server's `Retry-After` is shown to be waited out exactly, without the test sleeping.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use axum::routing::put;
use tokio::time::Instant;

use super::request::{Failure, FileRequest, send_with_retries};
use crate::push::retry::{RetryPolicy, Transient, Verdict};
use crate::report::progress::Progress;

/// A request as the server saw it: when (on the paused clock), and its body's length.
#[derive(Debug, Clone)]
struct Seen {
    at: Instant,
    body: usize,
    content_length: Option<String>,
}

/// Serves `answers` in turn (the last one repeats) at `PUT /feeds/{name}`.
async fn server(
    answers: Vec<(StatusCode, Option<&'static str>)>,
) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let app = axum::Router::new().route(
        "/feeds/{name}",
        put(move |headers: HeaderMap, body: axum::body::Bytes| {
            let log = Arc::clone(&log);
            let answers = answers.clone();
            async move {
                let mut log = log.lock().unwrap();
                log.push(Seen {
                    at: Instant::now(),
                    body: body.len(),
                    content_length: headers
                        .get("content-length")
                        .map(|v| v.to_str().unwrap().to_owned()),
                });
                let (status, retry_after) = answers[(log.len() - 1).min(answers.len() - 1)];
                let mut response = axum::http::Response::builder().status(status);
                if let Some(wait) = retry_after {
                    response = response.header("retry-after", wait);
                }
                response.body(axum::body::Body::from("busy")).unwrap()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{address}/feeds/shop.xml"), seen)
}

fn policy() -> RetryPolicy {
    RetryPolicy {
        retries: 3,
        min_delay: Duration::from_secs(1),
        max_delay: Duration::from_secs(8),
        max_retry_after: Duration::from_secs(600),
    }
}

async fn send(url: &str, body: &[u8]) -> (Result<StatusCode, Failure>, Vec<Duration>) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("shop.xml");
    std::fs::write(&file, body).unwrap();
    // Timeouts far beyond the waits, so that the paused clock's jumps never reach them.
    let client = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(86_400))
        .timeout(Duration::from_secs(86_400))
        .build()
        .unwrap();
    let headers = reqwest::header::HeaderMap::new();
    let request = FileRequest {
        client: &client,
        method: reqwest::Method::PUT,
        url,
        headers: &headers,
        content_type: "application/xml",
        file: &file,
    };
    let mut waits = Vec::new();
    let result = send_with_retries(&request, &policy(), &Progress::hidden(), 0, |_, wait| {
        waits.push(wait)
    })
    .await;
    (result, waits)
}

#[tokio::test(start_paused = true)]
async fn retry_after_is_waited_out_then_the_file_lands() {
    let (url, seen) = server(vec![
        (StatusCode::SERVICE_UNAVAILABLE, Some("120")),
        (StatusCode::TOO_MANY_REQUESTS, Some("7")),
        (StatusCode::CREATED, None),
    ])
    .await;
    let body = vec![b'x'; 700_000];
    let (result, waits) = send(&url, &body).await;
    assert_eq!(result.unwrap(), StatusCode::CREATED);
    assert_eq!(waits, [Duration::from_secs(120), Duration::from_secs(7)]);
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 3);
    // The server's wait, to the second, on the paused clock: not our backoff (1 s).
    let gaps: Vec<u64> = seen
        .windows(2)
        .map(|w| (w[1].at - w[0].at).as_secs())
        .collect();
    assert_eq!(gaps, [120, 7]);
    for request in &seen {
        // The whole file each time, with its length declared (no chunked upload).
        assert_eq!(request.body, body.len());
        assert_eq!(request.content_length.as_deref(), Some("700000"));
    }
}

#[tokio::test(start_paused = true)]
async fn a_503_without_retry_after_backs_off_and_a_403_is_final() {
    let (url, seen) = server(vec![
        (StatusCode::SERVICE_UNAVAILABLE, None),
        (StatusCode::FORBIDDEN, None),
    ])
    .await;
    let (result, waits) = send(&url, b"<rss/>").await;
    let failure = result.unwrap_err();
    assert_eq!(failure.verdict(), Verdict::Fatal);
    assert!(failure.to_string().contains("403"), "{failure}");
    // One backoff wait (within the jittered bounds), then the 403 ends it.
    assert_eq!(waits.len(), 1);
    assert!(
        waits[0] >= Duration::from_secs(1) && waits[0] <= Duration::from_secs(8),
        "{waits:?}"
    );
    assert_eq!(seen.lock().unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn retries_are_spent_on_a_server_that_stays_busy() {
    let (url, seen) = server(vec![(StatusCode::BAD_GATEWAY, Some("2"))]).await;
    let (result, waits) = send(&url, b"<rss/>").await;
    let failure = result.unwrap_err();
    assert!(failure.to_string().contains("502"), "{failure}");
    assert_eq!(waits, [Duration::from_secs(2); 3]);
    assert_eq!(seen.lock().unwrap().len(), 4);
}
