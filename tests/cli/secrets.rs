//! Secrets never show (issue #10 point 6): for each network kind, a push that succeeds, one
//! with a wrong secret and one the server refuses, each with the secret in an environment
//! variable; every output (stdout and stderr of `push`, `push --format json`,
//! `push --dry-run`, `runs`, `runs show`, in both formats) and the state files are searched
//! for the secret. A new kind adds a row to [`CASES`].

use crate::ftp_server::{self, Behaviour, FtpServer};
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
/// `[destination]` table reading the secret from [`SECRET_VAR`], and the secret the server
/// accepts.
struct Started {
    _server: Box<dyn std::any::Any>,
    destination: String,
    secret: &'static str,
}

/// A network destination kind under test: `start` brings up its server for a scenario.
struct Case {
    kind: &'static str,
    start: fn(&TestEnv, Scenario) -> Started,
}

const CASES: &[Case] = &[Case {
    kind: "ftp",
    start: start_ftp,
}];

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
        secret: ftp_server::PASSWORD,
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
        secret,
    } = (case.start)(&env, scenario);
    env.write(
        "feeds/remote.toml",
        format!("channel = \"google-merchant\"\nformat = \"xml\"\n\n{destination}"),
    );
    let value = match scenario {
        Scenario::WrongSecret => WRONG_SECRET,
        _ => secret,
    };
    let vars = [(SECRET_VAR, value)];
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
    let expected = if scenario == Scenario::Succeeds { 0 } else { 3 };
    assert_eq!(
        pushed.code(),
        expected,
        "{label}: push\n{}",
        pushed.stderr()
    );
    assert_eq!(
        dry.code(),
        if scenario == Scenario::WrongSecret {
            3
        } else {
            0
        },
        "{label}: dry run\n{}",
        dry.stderr()
    );
    // The second push has history for the folder feed: the network one is tried again.
    run(&["push", "--no-progress", "--format", "json", "--force"]);
    run(&["runs"]);
    run(&["runs", "--format", "json"]);
    for id in ["1", "2"] {
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
