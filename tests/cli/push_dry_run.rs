//! `push --dry-run` (issue #10 point 7): everything up to delivery, then what would be sent
//! where and a check of each destination, writing nothing there and recording nothing.

use crate::ftp_server::{Behaviour, FtpServer, PASSWORD};
use crate::push_ftp::ftp_feed;
use crate::push_object_store::{self as object_store, BUCKET, S3};
use crate::push_sftp;
use crate::s3_server::SECRET_KEY;
use crate::sshd::{self, Sshd};
use crate::support::{TestEnv, dir_feed};

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";

fn project() -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.generate(
        "cat",
        &["--variants", "300", "--stores", "2", "--seed", "4"],
    );
    env
}

#[test]
fn an_ftp_dry_run_logs_in_lists_the_files_and_writes_nothing() {
    let env = project();
    let served = env.path("served");
    let server = FtpServer::start(
        &served,
        Behaviour {
            tls: true,
            ..Behaviour::default()
        },
    );
    env.write("feeds/shop.toml", ftp_feed(&server, ""));
    let vars = [("FTP_PASSWORD", PASSWORD)];
    let run = env.run_with_env(
        &["push", "--dry-run", "--no-progress", "--format", "json"],
        &vars,
    );
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["dry_run"], true, "{report}");
    assert_eq!(report["outcome"], "ok", "{report}");
    let feed = &report["feeds"][0];
    assert_eq!(feed["outcome"], "would_push", "{report}");
    assert_eq!(
        feed["target"],
        format!("ftp://shop@127.0.0.1:{}/", server.port)
    );
    env.run(&["export", "--no-progress", "--out", "fresh"])
        .expect_code(0);
    let size = std::fs::metadata(env.path("fresh/shop.xml"))
        .expect("export")
        .len();
    assert_eq!(feed["files"][0]["name"], "products.xml", "{report}");
    assert_eq!(feed["files"][0]["bytes"], size, "{report}");
    let checks = feed["checks"].to_string();
    assert!(checks.contains("logged in as `shop`"), "{checks}");
    // Nothing written on the server, nothing recorded.
    assert!(server.names().is_empty());
    assert!(!env.path(".omnifeed/state.db").exists());

    let human = env.run_with_env(&["push", "--dry-run", "--no-progress"], &vars);
    human.expect_code(0);
    let stdout = human.stdout();
    assert!(
        stdout.contains(&format!("products.xml ({size} bytes)"))
            && stdout.contains("would push")
            && stdout.contains("nothing sent, nothing recorded"),
        "{stdout}"
    );

    let refused = env.run_with_env(
        &["push", "--dry-run", "--no-progress"],
        &[("FTP_PASSWORD", "wrong")],
    );
    refused.expect_code(3);
    assert!(
        refused.stderr().contains("login as `shop` refused"),
        "{}",
        refused.stderr()
    );
}

#[test]
fn a_dir_dry_run_checks_the_folder_and_exits_as_a_guard_would() {
    let env = project();
    env.write("feeds/shop.toml", dir_feed("google-merchant", "xml", ""));
    let run = env.run(&["push", "--dry-run", "--no-progress"]);
    run.expect_code(0);
    assert!(
        run.stdout().contains("would be created in"),
        "{}",
        run.stdout()
    );
    assert!(!env.path("out").exists(), "a dry run creates no folder");
    assert!(!env.path(".omnifeed").exists(), "nor a state");

    env.run(&["push", "--no-progress"]).expect_code(0);
    let runs_before = env.run(&["runs", "--format", "json"]).stdout();
    // A catalog with other items: most of the pushed ones would be removed.
    std::fs::remove_dir_all(env.path("cat")).expect("old catalog");
    env.generate(
        "cat",
        &["--variants", "300", "--stores", "2", "--seed", "5"],
    );
    let stopped = env.run(&["push", "--dry-run", "--no-progress", "--format", "json"]);
    stopped.expect_code(1);
    let report = stopped.json();
    assert_eq!(report["outcome"], "guard_tripped", "{report}");
    assert_eq!(report["feeds"][0]["outcome"], "guard_tripped", "{report}");
    assert!(
        report["feeds"][0]["checks"]
            .to_string()
            .contains("is writable"),
        "{report}"
    );
    assert_eq!(
        env.run(&["runs", "--format", "json"]).stdout(),
        runs_before,
        "a dry run adds no run"
    );
}

/// An SFTP dry run logs in (the host key checked against `known_hosts`) and writes nothing;
/// a host key that is not the pinned one fails it (exit 3) before any login.
#[test]
fn an_sftp_dry_run_checks_the_host_key_and_login_and_writes_nothing() {
    let sshd = Sshd::start(false);
    let env = push_sftp::project(&sshd, "300");
    let run = env.run(&["push", "--dry-run", "--no-progress", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    let feed = &report["feeds"][0];
    assert_eq!(feed["outcome"], "would_push", "{report}");
    assert_eq!(feed["files"][0]["name"], "products.xml", "{report}");
    let checks = feed["checks"].to_string();
    assert!(checks.contains("is known in"), "{checks}");
    assert!(
        checks.contains(&format!("logged in as `{}`", sshd::current_user())),
        "{checks}"
    );
    assert!(sshd.log().contains("Accepted publickey"), "{}", sshd.log());
    assert!(push_sftp::names(&sshd.remote()).is_empty());
    assert!(!env.path(".omnifeed/state.db").exists());

    // Another key pinned for this host and port: refused before any login.
    sshd::keygen(&env.path("impostor"));
    let impostor = std::fs::read_to_string(env.path("impostor.pub")).expect("key");
    env.write(
        "known_hosts",
        format!("[127.0.0.1]:{} {impostor}", sshd.port),
    );
    let logins = sshd.log().matches("Accepted").count();
    let refused = env.run(&["push", "--dry-run", "--no-progress"]);
    refused.expect_code(3);
    let stderr = refused.stderr();
    assert!(stderr.contains("CHANGED"), "{stderr}");
    assert!(stderr.contains(&sshd.host_key_fingerprint()), "{stderr}");
    assert_eq!(sshd.log().matches("Accepted").count(), logins);
    assert!(push_sftp::names(&sshd.remote()).is_empty());
    assert!(!env.path(".omnifeed/state.db").exists());
}

/// An object-store dry run lists the prefix with the credentials and writes nothing; a
/// secret key the server's signature check refuses fails it (exit 3).
#[test]
fn an_object_store_dry_run_checks_the_credentials_and_writes_nothing() {
    let s3 = S3::start();
    let env = object_store::project(&s3, "300", "");
    let run = env.run_with_env(
        &["push", "--dry-run", "--no-progress", "--format", "json"],
        &object_store::credentials(SECRET_KEY),
    );
    run.expect_code(0);
    let report = run.json();
    let feed = &report["feeds"][0];
    assert_eq!(feed["outcome"], "would_push", "{report}");
    assert_eq!(feed["target"], format!("s3://{BUCKET}/google/"), "{report}");
    assert_eq!(feed["files"][0]["name"], "shop.xml", "{report}");
    let checks = feed["checks"].to_string();
    assert!(checks.contains("credentials accepted"), "{checks}");
    assert!(s3.keys().is_empty(), "a dry run wrote {:?}", s3.keys());
    assert!(!env.path(".omnifeed/state.db").exists());

    let wrong = "wrong/secret/key/for/the/dry/run";
    let refused = env.run_with_env(
        &["push", "--dry-run", "--no-progress"],
        &object_store::credentials(wrong),
    );
    refused.expect_code(3);
    let stderr = refused.stderr();
    assert!(stderr.contains("credentials"), "{stderr}");
    assert!(!stderr.contains(wrong) && !refused.stdout().contains(wrong));
    assert!(s3.keys().is_empty());
    assert!(!env.path(".omnifeed/state.db").exists());
}
