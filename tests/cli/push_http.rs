//! `[destination] kind = "http"` against a real HTTP server on 127.0.0.1 (issue #10 point
//! 4): 503 answers retried until the file lands, a 403 not retried, the token header read
//! from the environment and never printed. The `Retry-After` timing is measured with a
//! paused clock in the library's tests (`src/push/http/tests.rs`).

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode};

use crate::support::TestEnv;

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";
const NOW: &str = "2026-03-01T00:00:00Z";
const TOKEN: &str = "tok-3f9a-must-not-be-printed";

/// A request as the server got it.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// A receiver answering with `answers` in turn (the last one repeats); a refusal's body
/// echoes the Authorization header, as careless servers do.
struct Receiver {
    _runtime: tokio::runtime::Runtime,
    base: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    fn start(answers: &'static [(StatusCode, Option<&'static str>)]) -> Receiver {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&received);
        let app = axum::Router::new().route(
            "/upload/{name}",
            axum::routing::any(
                move |method: Method, uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
                    let log = Arc::clone(&log);
                    async move {
                        let echo = headers
                            .get("authorization")
                            .map(|v| v.to_str().unwrap_or_default().to_owned())
                            .unwrap_or_default();
                        let mut log = log.lock().unwrap();
                        log.push(Received {
                            method,
                            path: uri.path().to_owned(),
                            headers,
                            body,
                        });
                        let (status, retry_after) = answers[(log.len() - 1).min(answers.len() - 1)];
                        let mut response = axum::http::Response::builder().status(status);
                        if let Some(wait) = retry_after {
                            response = response.header("retry-after", wait);
                        }
                        let text = if status.is_success() {
                            String::new()
                        } else {
                            format!("refused, you sent authorization: {echo}")
                        };
                        response.body(axum::body::Body::from(text)).unwrap()
                    }
                },
            ),
        );
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        runtime.spawn(async move { axum::serve(listener, app).await });
        Receiver {
            _runtime: runtime,
            base,
            received,
        }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

fn project(receiver: &Receiver) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write(
        "feeds/shop.toml",
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\nfile = \"shop\"\n\n\
             [destination]\nkind = \"http\"\nurl = \"{}/upload/{{file}}\"\nallow_http = true\n\
             headers = {{ Authorization = {{ env = \"FEED_TOKEN\", prefix = \"Bearer \" }}, \
             X-Feed-Source = \"omnifeed\" }}\n",
            receiver.base
        ),
    );
    env.generate(
        "cat",
        &["--variants", "200", "--stores", "2", "--seed", "3"],
    );
    env
}

fn push(env: &TestEnv) -> crate::support::Run {
    env.run_with_env(
        &["push", "--no-progress", "--now", NOW, "--format", "json"],
        &[("FEED_TOKEN", TOKEN)],
    )
}

/// Two 503s, then the file lands: three PUTs with the whole file, its length, type and
/// the token header; exit 0 and the feed recorded.
#[test]
fn a_busy_receiver_is_retried_until_the_file_lands() {
    static ANSWERS: [(StatusCode, Option<&str>); 3] = [
        (StatusCode::SERVICE_UNAVAILABLE, Some("0")),
        (StatusCode::SERVICE_UNAVAILABLE, None),
        (StatusCode::CREATED, None),
    ];
    let receiver = Receiver::start(&ANSWERS);
    let env = project(&receiver);
    env.run(&["export", "--no-progress", "--now", NOW])
        .expect_code(0);
    let expected = std::fs::read(env.path("out/shop.xml")).expect("exported");
    let run = push(&env);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["feeds"][0]["outcome"], "ok", "{report}");
    assert!(!report["feeds"][0]["recorded"].is_null(), "{report}");
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    for request in &received {
        assert_eq!(request.method, Method::PUT);
        assert_eq!(request.path, "/upload/shop.xml");
        assert!(request.body == expected, "the body differs from the export");
        let header = |name: &str| request.headers.get(name).map(|v| v.to_str().unwrap());
        assert_eq!(header("authorization"), Some(&*format!("Bearer {TOKEN}")));
        assert_eq!(header("x-feed-source"), Some("omnifeed"));
        assert_eq!(
            header("content-type"),
            Some("application/xml; charset=utf-8")
        );
        assert_eq!(header("content-length"), Some(&*expected.len().to_string()));
        assert_eq!(header("transfer-encoding"), None);
    }
    // Each retry is announced on stderr, without the token.
    let stderr = run.stderr();
    assert_eq!(stderr.matches("503").count(), 2, "{stderr}");
    assert!(!stderr.contains(TOKEN) && !run.stdout().contains(TOKEN));
}

/// A 403 is final: one request, exit 3, nothing recorded; the message shows the status and
/// the server's answer with the echoed token blanked out.
#[test]
fn a_403_is_not_retried_and_the_token_never_shows() {
    static ANSWERS: [(StatusCode, Option<&str>); 1] = [(StatusCode::FORBIDDEN, None)];
    let receiver = Receiver::start(&ANSWERS);
    let env = project(&receiver);
    let run = push(&env);
    run.expect_code(3);
    assert_eq!(receiver.received().len(), 1);
    let stderr = run.stderr();
    assert!(stderr.contains("403"), "{stderr}");
    assert!(stderr.contains("not retried"), "{stderr}");
    assert!(stderr.contains("Bearer ***"), "{stderr}");
    assert!(
        !stderr.contains(TOKEN) && !run.stdout().contains(TOKEN),
        "{stderr}"
    );
    let report = run.json();
    assert_eq!(report["feeds"][0]["outcome"], "failed", "{report}");
    assert!(report["feeds"][0]["recorded"].is_null(), "{report}");
}

/// The token variable unset: a configuration error naming the variable, nothing sent.
#[test]
fn a_missing_token_variable_is_named_and_nothing_is_sent() {
    static ANSWERS: [(StatusCode, Option<&str>); 1] = [(StatusCode::CREATED, None)];
    let receiver = Receiver::start(&ANSWERS);
    let env = project(&receiver);
    let run = env.run(&["push", "--no-progress", "--now", NOW]);
    assert_ne!(run.code(), 0);
    assert!(run.stderr().contains("FEED_TOKEN"), "{}", run.stderr());
    assert!(receiver.received().is_empty());
}

/// A credential written into the feed file is refused when the feed is loaded (exit 2),
/// with the line and the way to read it from the environment.
#[test]
fn a_token_written_in_the_feed_file_is_refused() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write(
        "feeds/shop.toml",
        "channel = \"google-merchant\"\nformat = \"xml\"\n\n[destination]\nkind = \"http\"\n\
         url = \"https://feeds.example.com/{file}\"\nheaders = { Authorization = \"Bearer abc\" }\n",
    );
    env.generate("cat", &["--variants", "20", "--stores", "1"]);
    let run = env.run(&["push", "--no-progress"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(stderr.contains("Authorization"), "{stderr}");
    assert!(stderr.contains("env = \"FEED_TOKEN\""), "{stderr}");
    assert!(stderr.contains("line 4"), "{stderr}");
}
