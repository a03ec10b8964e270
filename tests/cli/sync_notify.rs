//! `[notify] webhook` (issue #13 point 1): a failed sync posts its JSON report to a real
//! HTTP server on 127.0.0.1, which answers as a webhook receiver does (401 without the
//! right bearer token, scripted 503s); transient answers are retried, a refusal is not,
//! and neither the token nor a URL from the environment is ever printed.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::support::TestEnv;
use crate::sync::{project, reports};

const TOKEN: &str = "s3cret-hook-token";

/// What the receiver saw and what it answers next.
#[derive(Default)]
struct Inbox {
    /// Scripted answers for the next requests; then 200.
    script: Vec<StatusCode>,
    received: Vec<(HeaderMap, Bytes)>,
}

/// A webhook receiver on 127.0.0.1 at `/hooks/<secret path>`, stopped when dropped.
struct Receiver {
    port: u16,
    inbox: Arc<Mutex<Inbox>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(script: &[StatusCode]) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            script: script.iter().rev().copied().collect(),
            received: Vec::new(),
        }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (bound, port) = std::sync::mpsc::channel();
        let state = Arc::clone(&inbox);
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                    .await
                    .expect("bind");
                bound
                    .send(listener.local_addr().expect("addr").port())
                    .expect("send port");
                let app = axum::Router::new()
                    .route("/hooks/T0KEN-PATH", axum::routing::post(receive))
                    .with_state(state);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await
                    .expect("serve");
            });
        });
        Receiver {
            port: port.recv().expect("port"),
            inbox,
            stop: Some(stop),
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hooks/T0KEN-PATH", self.port)
    }

    fn received(&self) -> Vec<(HeaderMap, Bytes)> {
        self.inbox.lock().expect("inbox").received.clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Refuses a request without the bearer token or not JSON, as a real receiver does; else
/// answers as scripted.
async fn receive(
    State(inbox): State<Arc<Mutex<Inbox>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut inbox = inbox.lock().expect("inbox");
    inbox.received.push((headers.clone(), body.clone()));
    let authorized = headers
        .get("authorization")
        .and_then(|value| value.to_str().ok())
        == Some(&format!("Bearer {TOKEN}"));
    if !authorized {
        return (StatusCode::UNAUTHORIZED, "bad token").into_response();
    }
    if headers.get("content-type").and_then(|v| v.to_str().ok()) != Some("application/json")
        || serde_json::from_slice::<serde_json::Value>(&body).is_err()
    {
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, "JSON only").into_response();
    }
    match inbox.script.pop() {
        Some(status) if status == StatusCode::SERVICE_UNAVAILABLE => {
            (status, [("retry-after", "0")], "busy").into_response()
        }
        Some(status) => status.into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

/// A project with a good feed and one whose destination cannot be written.
fn failing_project(notify: &str) -> TestEnv {
    let env = project(30);
    env.write(
        "omnifeed.toml",
        format!("[catalog]\ndir = \"cat\"\n{notify}"),
    );
    env.write("blocker", "not a folder");
    env.write(
        "feeds/meta.toml",
        "channel = \"meta-catalog\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"blocker/meta\"\n",
    );
    env
}

/// A failed run posts its report; a 503 is retried (Retry-After honoured), and what arrives
/// is the report the run wrote, with the bearer token from the environment.
#[test]
fn a_failed_sync_posts_its_report_retrying_a_busy_receiver() {
    let receiver = Receiver::start(&[StatusCode::SERVICE_UNAVAILABLE]);
    let env = failing_project(&format!(
        "[notify]\nwebhook = \"{}\"\ntoken_env = \"OMNIFEED_TEST_HOOK_TOKEN\"\n",
        receiver.url()
    ));
    let run = env.run_with_env(&["sync"], &[("OMNIFEED_TEST_HOOK_TOKEN", TOKEN)]);
    run.expect_code(3);
    let received = receiver.received();
    assert_eq!(received.len(), 2, "one busy answer, one retry");
    let (headers, body) = &received[1];
    assert_eq!(headers["content-type"], "application/json");
    assert!(
        headers["user-agent"]
            .to_str()
            .unwrap()
            .starts_with("omnifeed/"),
        "{headers:?}"
    );
    let posted: serde_json::Value = serde_json::from_slice(body).expect("JSON body");
    assert_eq!(
        posted,
        reports(&env)[0],
        "the posted report is the written one"
    );
    assert_eq!(posted["outcome"], "failed");
    assert_eq!(posted["exit_code"], 3);
    let log = run.stderr();
    assert!(log.contains("503") && log.contains("trying again"), "{log}");
    assert!(!log.contains(TOKEN), "the token is never printed: {log}");
}

/// A run that went well posts nothing (unless `on = "always"`).
#[test]
fn a_good_sync_posts_nothing_unless_always() {
    let receiver = Receiver::start(&[]);
    let env = project(20);
    env.write(
        "omnifeed.toml",
        format!(
            "[catalog]\ndir = \"cat\"\n[notify]\nwebhook = \"{}\"\ntoken_env = \"HOOK_TOKEN\"\n",
            receiver.url()
        ),
    );
    let vars = [("HOOK_TOKEN", TOKEN)];
    let run = env.run_with_env(&["sync"], &vars);
    run.expect_code(0);
    assert_eq!(run.stderr(), "");
    assert!(receiver.received().is_empty());

    env.write(
        "omnifeed.toml",
        format!(
            "[catalog]\ndir = \"cat\"\n[notify]\nwebhook = \"{}\"\ntoken_env = \"HOOK_TOKEN\"\non = \"always\"\n",
            receiver.url()
        ),
    );
    env.run_with_env(&["sync"], &vars).expect_code(0);
    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let posted: serde_json::Value = serde_json::from_slice(&received[0].1).expect("JSON");
    assert_eq!(posted["outcome"], "ok");
    assert_eq!(posted["run"], 2);
}

/// A receiver that refuses the token (401) is not asked again; the failure is logged
/// without the URL kept in the environment, and the exit code stays the run's.
#[test]
fn a_refused_notification_is_not_retried_and_hides_the_secret_url() {
    let receiver = Receiver::start(&[]);
    let env = failing_project(
        "[notify]\nwebhook_env = \"OMNIFEED_TEST_HOOK_URL\"\ntoken_env = \"OMNIFEED_TEST_HOOK_TOKEN\"\n",
    );
    let url = receiver.url();
    let run = env.run_with_env(
        &["sync"],
        &[
            ("OMNIFEED_TEST_HOOK_URL", url.as_str()),
            ("OMNIFEED_TEST_HOOK_TOKEN", "wrong-token"),
        ],
    );
    run.expect_code(3);
    assert_eq!(receiver.received().len(), 1, "a 401 is not retried");
    let log = run.stderr();
    assert!(
        log.contains("could not send the run report")
            && log.contains("401")
            && log.contains("$OMNIFEED_TEST_HOOK_URL"),
        "{log}"
    );
    assert!(
        !log.contains("T0KEN-PATH") && !log.contains("wrong-token"),
        "no secret in the log: {log}"
    );

    // The variable unset: named, nothing sent, the run's exit code kept.
    let run = env.run(&["sync"]);
    run.expect_code(3);
    assert!(
        run.stderr().contains("OMNIFEED_TEST_HOOK_URL") && run.stderr().contains("not set"),
        "{}",
        run.stderr()
    );
    assert_eq!(receiver.received().len(), 1);
}

/// A receiver that is down: each attempt is retried as configured, then the failure is
/// logged and the run's exit code kept.
#[test]
fn an_unreachable_receiver_is_retried_then_reported() {
    let closed_port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.local_addr().expect("addr").port()
    };
    let env = failing_project(&format!(
        "[notify]\nwebhook = \"http://127.0.0.1:{closed_port}/hook\"\nretries = 2\n"
    ));
    let run = env.run(&["sync"]);
    run.expect_code(3);
    let log = run.stderr();
    assert_eq!(log.matches("trying again").count(), 2, "{log}");
    assert!(
        log.contains("could not send the run report")
            && log.contains(&format!("webhook http://127.0.0.1:{closed_port}")),
        "{log}"
    );
}
