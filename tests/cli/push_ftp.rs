//! `[destination] kind = "ftp"` against a real FTP server in the test process (issue #10
//! point 2): upload under a temporary name then rename, replacing, TLS by default, a wrong
//! password, a server that will not rename over a file, and a connection cut mid-upload.

use std::time::Duration;

use crate::ftp_server::{Behaviour, FtpServer, PASSWORD, USER};
use crate::support::TestEnv;

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";
const REMOTE: &str = "products.xml";

/// A Google feed bound for `server` as `products.xml`, with `extra` [destination] lines.
pub(crate) fn ftp_feed(server: &FtpServer, extra: &str) -> String {
    let ca = server.ca_file.as_ref().map_or(String::new(), |ca| {
        format!("ca_file = {:?}\n", ca.display().to_string())
    });
    format!(
        "channel = \"google-merchant\"\nformat = \"xml\"\nfile = \"shop\"\n\n\
         [destination]\nkind = \"ftp\"\nhost = \"127.0.0.1\"\nport = {}\nuser = \"{USER}\"\n\
         password_env = \"FTP_PASSWORD\"\nremote_file = \"{REMOTE}\"\nretries = 1\n\
         connect_timeout_secs = 5\ntimeout_secs = 120\n{ca}{extra}",
        server.port
    )
}

fn project(catalog_seed: &str) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    generate(&env, catalog_seed);
    env
}

fn generate(env: &TestEnv, seed: &str) {
    let _ = std::fs::remove_dir_all(env.path("cat"));
    env.generate(
        "cat",
        &["--variants", "300", "--stores", "2", "--seed", seed],
    );
}

fn push(env: &TestEnv, extra: &[&str]) -> crate::support::Run {
    let mut args = vec!["push", "--no-progress"];
    args.extend_from_slice(extra);
    env.run_with_env(&args, &[("FTP_PASSWORD", PASSWORD)])
}

/// The feed file a fresh export writes for the current catalog.
fn exported(env: &TestEnv) -> Vec<u8> {
    let _ = std::fs::remove_dir_all(env.path("fresh"));
    env.run(&["export", "--no-progress", "--out", "fresh"])
        .expect_code(0);
    std::fs::read(env.path("fresh/shop.xml")).expect("exported feed")
}

#[test]
fn a_feed_lands_under_its_registered_name_and_a_second_push_replaces_it() {
    let env = project("4");
    let served = env.path("served");
    let server = FtpServer::start(
        &served,
        Behaviour {
            tls: true,
            ..Behaviour::default()
        },
    );
    env.write("feeds/shop.toml", ftp_feed(&server, ""));
    let run = push(&env, &["--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["outcome"], "ok", "{report}");
    assert_eq!(
        report["feeds"][0]["files"][0],
        format!("ftp://{USER}@127.0.0.1:{}/{REMOTE}", server.port)
    );
    // Only the final name is left: the temporary one was renamed.
    assert_eq!(server.names(), [REMOTE]);
    let first = exported(&env);
    assert!(
        server.read(REMOTE) == first,
        "the served file is the export"
    );
    assert!(!run.stderr().contains("warning"), "{}", run.stderr());

    // Parts an earlier, split run left go; a file of someone else's stays.
    for name in ["products-0001.xml", "products-0002.xml", "other.xml"] {
        std::fs::write(served.join(name), "old").expect("server file");
    }
    generate(&env, "5");
    let second_run = push(&env, &["--force"]);
    second_run.expect_code(0);
    let second = exported(&env);
    assert_ne!(first, second);
    assert!(
        server.read(REMOTE) == second,
        "the second push replaced the file"
    );
    assert_eq!(server.names(), ["other.xml", REMOTE]);
    assert!(
        second_run.stderr().contains("removed `products-0002.xml`"),
        "{}",
        second_run.stderr()
    );
    // The state took the second feed: nothing is left to push.
    let diff = env.run(&["diff", "--format", "json"]).json();
    assert_eq!(diff["has_changes"], false, "{diff}");
}

#[test]
fn a_server_that_will_not_rename_over_a_file_gets_it_deleted_first_with_a_warning() {
    let env = project("4");
    let served = env.path("served");
    let server = FtpServer::start(
        &served,
        Behaviour {
            tls: true,
            refuse_overwrite: true,
            ..Behaviour::default()
        },
    );
    env.write("feeds/shop.toml", ftp_feed(&server, ""));
    push(&env, &[]).expect_code(0);
    generate(&env, "5");
    let run = push(&env, &["--force"]);
    run.expect_code(0);
    assert!(
        run.stderr()
            .contains("refused to rename over `products.xml`")
            && run.stderr().contains("deleted first"),
        "{}",
        run.stderr()
    );
    assert!(server.read(REMOTE) == exported(&env));
    assert_eq!(server.names(), [REMOTE]);
}

#[test]
fn tls_is_required_unless_switched_off_in_writing() {
    let env = project("4");
    let served = env.path("served");
    let server = FtpServer::start(&served, Behaviour::default());
    env.write("feeds/shop.toml", ftp_feed(&server, ""));
    let refused = push(&env, &[]);
    refused.expect_code(3);
    let stderr = refused.stderr();
    assert!(
        stderr.contains("127.0.0.1 does not offer TLS") && stderr.contains("tls = false"),
        "{stderr}"
    );
    // Refused before the login: nothing was sent, not even the password.
    assert!(server.names().is_empty());
    assert!(!stderr.contains("retrying"), "not retried: {stderr}");

    env.write("feeds/shop.toml", ftp_feed(&server, "tls = false\n"));
    let clear = push(&env, &[]);
    clear.expect_code(0);
    assert_eq!(
        clear.stderr().matches("in the clear").count(),
        1,
        "one warning:\n{}",
        clear.stderr()
    );
    assert!(server.read(REMOTE) == exported(&env));
}

#[test]
fn a_missing_remote_folder_is_named_with_a_hint() {
    let env = project("4");
    let server = FtpServer::start(
        &env.path("served"),
        Behaviour {
            tls: true,
            ..Behaviour::default()
        },
    );
    env.write(
        "feeds/shop.toml",
        ftp_feed(&server, "path = \"incoming\"\n"),
    );
    let run = push(&env, &[]);
    run.expect_code(3);
    assert!(
        run.stderr()
            .contains("the server has no folder `incoming` for this login")
            && !run.stderr().contains("retrying"),
        "{}",
        run.stderr()
    );
    std::fs::create_dir(env.path("served/incoming")).expect("folder");
    push(&env, &[]).expect_code(0);
    assert!(env.path("served/incoming/products.xml").exists());
}

#[test]
fn a_wrong_password_fails_at_once_and_names_the_variable() {
    let env = project("4");
    let served = env.path("served");
    let server = FtpServer::start(
        &served,
        Behaviour {
            tls: true,
            ..Behaviour::default()
        },
    );
    env.write(
        "feeds/shop.toml",
        ftp_feed(&server, "retries = 3\n").replace("retries = 1\n", ""),
    );
    let started = std::time::Instant::now();
    let run = env.run_with_env(
        &["push", "--no-progress"],
        &[("FTP_PASSWORD", "not-the-password")],
    );
    run.expect_code(3);
    let stderr = run.stderr();
    assert!(
        stderr.contains("login as `shop` refused") && stderr.contains("FTP_PASSWORD"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("retrying"),
        "a refused login is not retried: {stderr}"
    );
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(server.names().is_empty());
    // An unset variable is a configuration error.
    let unset = env.run(&["push", "--no-progress"]);
    unset.expect_code(2);
    assert!(
        unset.stderr().contains("FTP_PASSWORD"),
        "{}",
        unset.stderr()
    );
}

#[test]
fn a_connection_cut_mid_upload_leaves_the_old_file_and_the_state_then_a_rerun_completes() {
    let env = project("4");
    let served = env.path("served");
    let tls = Behaviour {
        tls: true,
        ..Behaviour::default()
    };
    let server = FtpServer::start(&served, tls);
    env.write("feeds/shop.toml", ftp_feed(&server, ""));
    push(&env, &[]).expect_code(0);
    let first = server.read(REMOTE);
    drop(server);

    generate(&env, "5");
    let pending = env.run(&["diff", "--format", "json"]).stdout();
    let mut stalling = FtpServer::start(
        &served,
        Behaviour {
            stall_after: Some(64 * 1024),
            ..tls
        },
    );
    env.write("feeds/shop.toml", ftp_feed(&stalling, ""));
    let cut = std::thread::scope(|scope| {
        let pushing = scope.spawn(|| push(&env, &["--force"]));
        stalling.wait_stalled(Duration::from_secs(120));
        stalling.stop();
        pushing.join().expect("push thread")
    });
    cut.expect_code(3);
    assert!(cut.stderr().contains("push failed"), "{}", cut.stderr());
    assert!(
        server_file(&served, REMOTE) == first,
        "the old file is intact"
    );
    assert_eq!(
        env.run(&["diff", "--format", "json"]).stdout(),
        pending,
        "the state is unchanged"
    );

    let server = FtpServer::start(&served, tls);
    env.write("feeds/shop.toml", ftp_feed(&server, ""));
    push(&env, &["--force"]).expect_code(0);
    assert!(server.read(REMOTE) == exported(&env));
    // The cut upload's temporary file was written over and renamed.
    assert_eq!(server.names(), [REMOTE]);
}

fn server_file(root: &std::path::Path, name: &str) -> Vec<u8> {
    std::fs::read(root.join(name)).expect("served file")
}

#[test]
fn a_server_that_stops_taking_data_times_out_instead_of_hanging() {
    let env = project("4");
    let served = env.path("served");
    let server = FtpServer::start(
        &served,
        Behaviour {
            tls: true,
            stall_after: Some(64 * 1024),
            ..Behaviour::default()
        },
    );
    env.write(
        "feeds/shop.toml",
        ftp_feed(&server, "io_timeout_secs = 1\n").replace("retries = 1\n", "retries = 0\n"),
    );
    let run = push(&env, &[]);
    run.expect_code(3);
    let stderr = run.stderr();
    assert!(
        stderr.contains("did not answer `STOR .products.xml.partial` within io_timeout_secs = 1"),
        "{stderr}"
    );
    assert!(
        !served.join(REMOTE).exists(),
        "nothing under the final name"
    );
}
