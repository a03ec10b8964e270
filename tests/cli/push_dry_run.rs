//! `push --dry-run` (issue #10 point 7): everything up to delivery, then what would be sent
//! where and a check of each destination, writing nothing there and recording nothing.

use crate::ftp_server::{Behaviour, FtpServer, PASSWORD};
use crate::push_ftp::ftp_feed;
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
