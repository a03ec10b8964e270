//! Secrets never show (issue #10 point 6): for each network kind, a push that succeeds, one
//! with a wrong secret and one the server refuses, each with the secret in an environment
//! variable; every output (stdout and stderr of `push`, `push --format json`,
//! `push --dry-run`, `runs`, `runs show`, in both formats) and the state files are searched
//! for the secret. A new kind adds a row to [`CASES`].

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};

use crate::ftp_server::{self, Behaviour, FtpServer};
use crate::meta_api::server::{self as meta_server, GraphServer};
use crate::push_object_store::{BUCKET, S3};
use crate::s3_server::{ACCESS_KEY, SECRET_KEY};
use crate::sshd::{self, Sshd};
use crate::support::{TestEnv, dir_feed};

/// What the server of a case does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Scenario {
    Succeeds,
    /// The variable holds a secret the server does not accept.
    WrongSecret,
    /// The credentials are right, the server refuses the upload.
    Refuses,
}

/// A running server for one case (kept alive until the case ends), the feed's
/// `[destination]` table, the variable it reads the secret from, other variables the kind
/// needs, and the secret that opens the server.
struct Started {
    _server: Box<dyn std::any::Any>,
    destination: String,
    secret_var: &'static str,
    other_vars: Vec<(&'static str, &'static str)>,
    secret: &'static str,
    /// The feed's lines before `[destination]`, when the kind needs a channel of its own
    /// (default: a Google feed in XML).
    feed_head: Option<String>,
}

/// A network destination kind under test: `start` brings up its server for a scenario.
struct Case {
    kind: &'static str,
    /// The channel of the feed pushed there.
    channel: &'static str,
    start: fn(&TestEnv, Scenario) -> Started,
    /// Exit codes of `push` and `push --dry-run` with the wrong secret: a login the server
    /// refuses is a delivery failure (3); a secret that does not open a local key file is
    /// the configuration's (2); a dry run of a kind that cannot check a token without
    /// sending a file passes (0).
    wrong_secret_exits: (i32, i32),
    /// The exit code of `push --dry-run` when the server refuses uploads: 3 when the check
    /// already sees the refusal (a missing remote folder), 0 when only an upload would.
    refuses_dry_exit: i32,
}

const CASES: &[Case] = &[
    Case {
        kind: "ftp",
        channel: "google-merchant",
        start: start_ftp,
        wrong_secret_exits: (3, 3),
        refuses_dry_exit: 0,
    },
    Case {
        kind: "sftp",
        channel: "google-merchant",
        start: start_sftp,
        wrong_secret_exits: (2, 2),
        refuses_dry_exit: 3,
    },
    Case {
        kind: "object-store",
        channel: "google-merchant",
        start: start_object_store,
        wrong_secret_exits: (3, 3),
        refuses_dry_exit: 0,
    },
    Case {
        kind: "http",
        channel: "google-merchant",
        start: start_http,
        wrong_secret_exits: (3, 0),
        refuses_dry_exit: 0,
    },
    Case {
        kind: "amazon-sp-api",
        channel: "amazon-listings",
        start: start_amazon_sp,
        wrong_secret_exits: (3, 3),
        refuses_dry_exit: 0,
    },
    Case {
        kind: "meta-catalog-api",
        channel: "meta-catalog",
        start: start_meta,
        wrong_secret_exits: (3, 3),
        refuses_dry_exit: 0,
    },
];

const SECRET_VAR: &str = "OMNIFEED_TEST_SECRET";
/// The wrong secret of [`Scenario::WrongSecret`]: it must not show either.
const WRONG_SECRET: &str = "Wr0ng-secret-Zk4p8";

fn start_ftp(env: &TestEnv, scenario: Scenario) -> Started {
    let server = FtpServer::start(
        &env.path("served"),
        Behaviour {
            tls: true,
            refuse_uploads: scenario == Scenario::Refuses,
            ..Behaviour::default()
        },
    );
    let destination = format!(
        "[destination]\nkind = \"ftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\n\
         password_env = \"{SECRET_VAR}\"\nca_file = {:?}\nretries = 0\n",
        server.port,
        ftp_server::USER,
        server.ca_file.as_ref().expect("TLS").display().to_string(),
    );
    Started {
        _server: Box::new(server),
        destination,
        secret_var: SECRET_VAR,
        other_vars: Vec::new(),
        secret: ftp_server::PASSWORD,
        feed_head: None,
    }
}

/// The passphrase of the user key in the SFTP case.
const KEY_PASSPHRASE: &str = "key-Passphrase-7Qv2x";

/// sshd with the user key, a copy of which is encrypted with [`KEY_PASSPHRASE`] (the secret
/// here: a password login needs a local user, which only `.ci/run` makes). It refuses the
/// upload by having no folder at `path`.
fn start_sftp(env: &TestEnv, scenario: Scenario) -> Started {
    let server = Sshd::start(false);
    let key = env.path("user_key");
    std::fs::copy(server.path("user_key"), &key).expect("copy the user key");
    let status = std::process::Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", "", "-N", KEY_PASSPHRASE, "-f"])
        .arg(&key)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("ssh-keygen -p");
    assert!(status.success(), "encrypt the user key");
    env.write("known_hosts", server.known_hosts_line());
    let remote = match scenario {
        Scenario::Refuses => server.remote().join("missing"),
        _ => server.remote(),
    };
    let destination = format!(
        "[destination]\nkind = \"sftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{}\"\n\
         key_file = {:?}\npassphrase_env = \"{SECRET_VAR}\"\nknown_hosts = {:?}\n\
         path = {:?}\nretries = 0\n",
        server.port,
        sshd::current_user(),
        key.display().to_string(),
        env.path("known_hosts").display().to_string(),
        remote.display().to_string(),
    );
    Started {
        _server: Box::new(server),
        destination,
        secret_var: SECRET_VAR,
        other_vars: Vec::new(),
        secret: KEY_PASSPHRASE,
        feed_head: None,
    }
}

/// The S3 server checks every signature; when it refuses, the key may only read.
fn start_object_store(_env: &TestEnv, scenario: Scenario) -> Started {
    let server = S3::start_with(scenario != Scenario::Refuses);
    let destination = format!(
        "[destination]\nkind = \"object-store\"\nurl = \"s3://{BUCKET}/google/\"\n\
         endpoint = \"{}\"\nallow_http = true\n",
        server.endpoint
    );
    Started {
        _server: Box::new(server),
        destination,
        secret_var: "AWS_SECRET_ACCESS_KEY",
        other_vars: vec![
            ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
            ("AWS_REGION", "us-east-1"),
        ],
        secret: SECRET_KEY,
        feed_head: None,
    }
}

/// The bearer token the HTTP receiver accepts.
const HTTP_TOKEN: &str = "tok-Receiver-9d2Lq";

/// A receiver that answers 401 to any other token (echoing what it got, as careless
/// servers do), 403 to every upload when it refuses, 201 otherwise.
fn start_http(_env: &TestEnv, scenario: Scenario) -> Started {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let refuse = scenario == Scenario::Refuses;
    let stored: Arc<Mutex<Vec<String>>> = Arc::default();
    let app = axum::Router::new().route(
        "/upload/{name}",
        axum::routing::put(
            move |axum::extract::Path(name): axum::extract::Path<String>, headers: HeaderMap| {
                let stored = Arc::clone(&stored);
                async move {
                    let sent = headers
                        .get("authorization")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned();
                    if sent != format!("Bearer {HTTP_TOKEN}") {
                        (StatusCode::UNAUTHORIZED, format!("bad token {sent}"))
                    } else if refuse {
                        (
                            StatusCode::FORBIDDEN,
                            format!("{sent} may not write {name}"),
                        )
                    } else {
                        stored.lock().unwrap().push(name);
                        (StatusCode::CREATED, String::new())
                    }
                }
            },
        ),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    runtime.spawn(async move { axum::serve(listener, app).await });
    let destination = format!(
        "[destination]\nkind = \"http\"\nurl = \"{base}/upload/{{file}}\"\nallow_http = true\n\
         headers = {{ Authorization = {{ env = \"{SECRET_VAR}\", prefix = \"Bearer \" }} }}\n"
    );
    Started {
        _server: Box::new(runtime),
        destination,
        secret_var: SECRET_VAR,
        other_vars: Vec::new(),
        secret: HTTP_TOKEN,
        feed_head: None,
    }
}

/// The local SP-API with the refresh token as the secret (the LWA client secret travels
/// beside it); when it refuses, every feed ends FATAL.
fn start_amazon_sp(_env: &TestEnv, scenario: Scenario) -> Started {
    use crate::amazon_sp::server::{CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, SpApiServer};
    let server = SpApiServer::start();
    if scenario == Scenario::Refuses {
        server.state().fatal_feed = Some(1);
    }
    let destination = format!(
        "[destination]\nkind = \"amazon-sp-api\"\nmarketplace_ids = [\"A1PA6795UKMFR9\"]\n\
         endpoint = \"{url}\"\ntoken_url = \"{url}/auth/o2/token\"\npoll_interval_ms = 10\n\
         retries = 0\nrefresh_token_env = \"{SECRET_VAR}\"\n",
        url = server.url()
    );
    Started {
        _server: Box::new(server),
        destination,
        secret_var: SECRET_VAR,
        other_vars: vec![
            ("SP_API_CLIENT_ID", CLIENT_ID),
            ("SP_API_CLIENT_SECRET", CLIENT_SECRET),
        ],
        secret: REFRESH_TOKEN,
        feed_head: Some(
            "channel = \"amazon-listings\"\nformat = \"json\"\ncurrency = \"USD\"\n\
             [params]\nseller_id = \"A1TESTSELLER\"\nmarketplace_id = \"A1PA6795UKMFR9\"\n\
             language_tag = \"de_DE\"\n[fields]\nproductType = \"PRODUCT\"\n"
                .to_owned(),
        ),
    }
}

/// The Meta system-user token; the app secret is set too, so `appsecret_proof` is sent.
const META_TOKEN: &str = "EAAsecret-Token-4hT9";

/// The local Graph API: a wrong token is refused (code 190); when it refuses, the token
/// lacks the catalog permission, which only a write shows.
fn start_meta(_env: &TestEnv, scenario: Scenario) -> Started {
    let server = GraphServer::start(META_TOKEN, Some("meta-App-secret-8Lw"));
    server.state().refuse_writes = scenario == Scenario::Refuses;
    let destination = format!(
        "[destination]\nkind = \"meta-catalog-api\"\ncatalog_id = \"{}\"\nendpoint = \"{}\"\n\
         token_env = \"{SECRET_VAR}\"\nretries = 0\npoll_interval_ms = 10\n",
        meta_server::CATALOG,
        server.url()
    );
    Started {
        _server: Box::new(server),
        destination,
        secret_var: SECRET_VAR,
        other_vars: vec![("META_APP_SECRET", "meta-App-secret-8Lw")],
        secret: META_TOKEN,
        feed_head: None,
    }
}

#[test]
fn no_output_and_no_state_file_holds_a_secret() {
    for case in CASES {
        for scenario in [Scenario::Succeeds, Scenario::WrongSecret, Scenario::Refuses] {
            check_case(case, scenario);
        }
    }
}

fn check_case(case: &Case, scenario: Scenario) {
    let label = format!("{} {scenario:?}", case.kind);
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.generate("cat", &["--variants", "50", "--stores", "1", "--seed", "3"]);
    // A folder feed beside the network one, so that the state gets written in every case.
    env.write("feeds/local.toml", dir_feed("google-merchant", "xml", ""));
    let Started {
        _server,
        destination,
        secret_var,
        other_vars,
        secret,
        feed_head,
    } = (case.start)(&env, scenario);
    let head =
        feed_head.unwrap_or_else(|| format!("channel = \"{}\"\nformat = \"xml\"\n", case.channel));
    env.write("feeds/remote.toml", format!("{head}\n{destination}"));
    let value = match scenario {
        Scenario::WrongSecret => WRONG_SECRET,
        _ => secret,
    };
    let mut vars = other_vars;
    vars.push((secret_var, value));
    let mut outputs: Vec<(String, Vec<u8>)> = Vec::new();
    let mut run = |args: &[&str]| {
        let run = env.run_with_env(args, &vars);
        outputs.push((format!("{args:?} stdout"), run.output.stdout.clone()));
        outputs.push((format!("{args:?} stderr"), run.output.stderr.clone()));
        run
    };
    let dry = run(&["push", "--dry-run", "--no-progress"]);
    run(&["push", "--dry-run", "--no-progress", "--format", "json"]);
    let pushed = run(&["push", "--no-progress"]);
    let (expected, expected_dry) = match scenario {
        Scenario::Succeeds => (0, 0),
        Scenario::WrongSecret => case.wrong_secret_exits,
        Scenario::Refuses => (3, case.refuses_dry_exit),
    };
    assert_eq!(
        pushed.code(),
        expected,
        "{label}: push\n{}",
        pushed.stderr()
    );
    assert_eq!(
        dry.code(),
        expected_dry,
        "{label}: dry run\n{}",
        dry.stderr()
    );
    // The second push has history for the folder feed: the network one is tried again.
    run(&["push", "--no-progress", "--format", "json", "--force"]);
    run(&["runs"]);
    let runs = run(&["runs", "--format", "json"]).json();
    // A secret that does not open its key file stops the first push before it begins.
    let ids: Vec<String> = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|r| r["id"].to_string())
        .collect();
    assert!(!ids.is_empty(), "{label}: no run recorded");
    for id in ids.iter().map(String::as_str) {
        let shown = run(&["runs", "show", id]);
        assert_eq!(
            shown.code(),
            0,
            "{label}: runs show {id}\n{}",
            shown.stderr()
        );
        run(&["runs", "show", id, "--format", "json"]);
    }
    for name in ["state.db", "state.db-wal", "state.db-journal"] {
        let path = env.path(&format!(".omnifeed/{name}"));
        if path.exists() {
            outputs.push((name.to_owned(), std::fs::read(&path).expect("state file")));
        }
    }
    assert!(env.path(".omnifeed/state.db").exists(), "{label}: no state");
    for (what, bytes) in &outputs {
        for needle in [secret, WRONG_SECRET] {
            assert!(
                !contains(bytes, needle.as_bytes()),
                "{label}: {what} holds the secret:\n{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack
        .windows(needle.len())
        .any(|window| window == needle)
}
