//! One run at a time, read-only dry runs, and a push that does not trust a state without
//! history (issue #8 point 2).

use std::fs::File;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{TestEnv, dir_feed};

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";
const STATE: &str = ".omnifeed/state.db";
const LOCK: &str = ".omnifeed/state.db.lock";

fn project(variants: u32) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/google.toml", dir_feed("google-merchant", "xml", ""));
    env.generate(
        "cat",
        &[
            "--variants",
            &variants.to_string(),
            "--stores",
            "2",
            "--seed",
            "3",
        ],
    );
    env
}

fn has_changes(env: &TestEnv) -> bool {
    let diff = env.run(&["diff", "--format", "json", "--no-progress"]);
    diff.expect_code(0);
    diff.json()["has_changes"].as_bool().expect("has_changes")
}

fn state_connection(env: &TestEnv) -> rusqlite::Connection {
    rusqlite::Connection::open(env.path(STATE)).expect("open state")
}

fn spawn_push(env: &TestEnv) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_omnifeed"))
        .current_dir(env.dir.path())
        .args(["push", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn push")
}

/// Two pushes started together: one is refused at once with code 4 and names the holder,
/// the other completes; nothing is left to do and the delivered file is a fresh export.
#[test]
fn two_pushes_started_together_one_refused_with_code_4() {
    let env = project(5000);
    let mut first = spawn_push(&env);
    let mut second = spawn_push(&env);
    // Whichever ends first must be the refused one, while the other still runs: the
    // refusal does not wait for the lock.
    let (refused, mut winner) = loop {
        if let Some(status) = first.try_wait().expect("wait") {
            break ((status, first), second);
        }
        if let Some(status) = second.try_wait().expect("wait") {
            break ((status, second), first);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (status, refused) = refused;
    let refused = refused.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(status.code(), Some(4), "stderr: {stderr}");
    assert!(
        winner.try_wait().expect("wait").is_none(),
        "the refused push ended only after the other one"
    );
    let holder = format!("pid {}", winner.id());
    assert!(
        stderr.contains(&holder) && stderr.contains("started at") && stderr.contains(LOCK),
        "names the lock and its holder ({holder}): {stderr}"
    );
    let won = winner.wait_with_output().expect("output");
    assert_eq!(
        won.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&won.stderr)
    );

    assert!(
        !has_changes(&env),
        "diff after the push shows nothing to do"
    );
    env.run(&["export", "--no-progress", "--out", "fresh"])
        .expect_code(0);
    assert_eq!(
        std::fs::read(env.path("out/google.xml")).expect("delivered"),
        std::fs::read(env.path("fresh/google.xml")).expect("exported"),
        "the delivered file equals a fresh export"
    );
}

/// Any process holding the lock file keeps `export` and `push` out (code 4, nothing
/// written), while `diff` and `runs` still read.
#[test]
fn a_held_lock_refuses_writers_and_lets_readers_read() {
    let env = project(200);
    env.run(&["push", "--no-progress"]).expect_code(0);
    let delivered = std::fs::read(env.path("out/google.xml")).expect("delivered");
    std::fs::write(
        env.path(LOCK),
        "pid 4242\nstarted 2026-01-02T03:04:05Z\ncommand push\n",
    )
    .expect("lock details");
    let held = File::options()
        .read(true)
        .write(true)
        .open(env.path(LOCK))
        .expect("lock file");
    held.try_lock().expect("the test takes the lock");
    for command in ["export", "push"] {
        let run = env.run(&[command, "--no-progress"]);
        run.expect_code(4);
        assert!(
            run.stderr().contains("pid 4242")
                && run.stderr().contains("started at 2026-01-02T03:04:05Z"),
            "{command}: {}",
            run.stderr()
        );
    }
    assert_eq!(
        std::fs::read(env.path("out/google.xml")).expect("delivered"),
        delivered
    );
    assert!(!has_changes(&env));
    env.run(&["runs", "--format", "json"]).expect_code(0);
    drop(held);
    // Released (as the OS does for a dead holder): the next run takes it over.
    env.run(&["push", "--no-progress"]).expect_code(0);
    assert!(env.read(LOCK).contains("command push"));
    // The old holder's line, not the digits: a start time's nanoseconds may hold `4242`.
    assert!(!env.read(LOCK).contains("pid 4242\n"), "{}", env.read(LOCK));
}

/// `diff` and `runs` neither wait for nor take SQLite's write lock: a push holding it for
/// a long first push no longer makes them fail after 10 s.
#[test]
fn diff_and_runs_read_while_a_writer_holds_the_state() {
    let env = project(200);
    env.run(&["push", "--no-progress"]).expect_code(0);
    let writer = state_connection(&env);
    writer
        .execute_batch("BEGIN IMMEDIATE; UPDATE runs SET command = command;")
        .expect("hold the write lock");
    assert!(!has_changes(&env));
    let runs = env.run(&["runs", "--format", "json"]);
    runs.expect_code(0);
    assert_eq!(runs.json()["runs"][0]["outcome"], "ok");
    writer.execute_batch("ROLLBACK").expect("release");
}

/// A state written by a newer omnifeed is refused with a clear message by every command,
/// and the read-only ones leave it byte for byte alone.
#[test]
fn a_newer_state_is_refused_and_left_alone() {
    let env = project(50);
    env.run(&["push", "--no-progress"]).expect_code(0);
    state_connection(&env)
        .execute_batch("PRAGMA user_version = 99")
        .expect("set version");
    let before = std::fs::read(env.path(STATE)).expect("state");
    for args in [
        &["diff", "--no-progress"][..],
        &["runs"][..],
        &["push", "--no-progress"][..],
    ] {
        let run = env.run(args);
        run.expect_code(2);
        assert!(
            run.stderr().contains("schema version 99") && run.stderr().contains("upgrade"),
            "{args:?}: {}",
            run.stderr()
        );
    }
    assert_eq!(std::fs::read(env.path(STATE)).expect("state"), before);
}

/// `diff` and `runs` never create a state.
#[test]
fn read_only_commands_create_no_state() {
    let env = project(50);
    env.run(&["diff", "--no-progress"]).expect_code(0);
    env.run(&["runs"]).expect_code(0);
    assert!(!env.path(".omnifeed").exists());
}

/// A state that lost its history (deleted, or truncated to 0 bytes) while the destination
/// holds the feed's files stops the push, files untouched, until `--force`.
#[test]
fn a_state_without_history_stops_the_push_until_forced() {
    for lose in ["truncate", "delete"] {
        let env = project(100);
        env.run(&["push", "--no-progress"]).expect_code(0);
        let delivered = std::fs::read(env.path("out/google.xml")).expect("delivered");
        match lose {
            "truncate" => {
                File::create(env.path(STATE)).expect("truncate");
            }
            _ => std::fs::remove_file(env.path(STATE)).expect("delete"),
        }
        // Changed content, so a push that went ahead would rewrite the file.
        let products = env.read("cat/products.csv").replacen(",new,", ",used,", 5);
        env.write("cat/products.csv", products);
        let stopped = env.run(&["push", "--no-progress"]);
        stopped.expect_code(1);
        assert!(
            stopped.stderr().contains("no record of this feed")
                && stopped.stderr().contains("--force"),
            "{lose}: {}",
            stopped.stderr()
        );
        assert_eq!(
            std::fs::read(env.path("out/google.xml")).expect("delivered"),
            delivered,
            "{lose}: the delivered file is untouched"
        );
        env.run(&["push", "--no-progress", "--force"])
            .expect_code(0);
        assert!(!has_changes(&env), "{lose}");
        env.run(&["push", "--no-progress"]).expect_code(0);
    }
}

/// A run left `running` by a dead process is marked `interrupted` by the next push.
#[test]
fn a_killed_run_is_marked_interrupted_by_the_next_push() {
    let env = project(50);
    env.run(&["push", "--no-progress"]).expect_code(0);
    // What a push killed after starting its run leaves behind.
    state_connection(&env)
        .execute_batch(
            "INSERT INTO runs (started_at, command, outcome) VALUES (1, 'push', 'running')",
        )
        .expect("insert");
    let runs = env.run(&["runs", "--format", "json"]).json();
    assert_eq!(runs["runs"][0]["outcome"], "running");
    env.run(&["push", "--no-progress"]).expect_code(0);
    let runs = env.run(&["runs", "--format", "json"]).json();
    let outcomes: Vec<&str> = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|run| run["outcome"].as_str().expect("outcome"))
        .collect();
    assert_eq!(outcomes, ["ok", "interrupted", "ok"]);
}

/// When recording the run's end fails, the report is still printed (exit 3), and what the
/// push recorded stands.
#[test]
fn the_report_is_printed_when_the_run_end_cannot_be_recorded() {
    let env = project(50);
    env.run(&["push", "--no-progress"]).expect_code(0);
    state_connection(&env)
        .execute_batch(
            "CREATE TRIGGER refuse_end BEFORE UPDATE OF ended_at ON runs
             BEGIN SELECT RAISE(ABORT, 'simulated disk full'); END;",
        )
        .expect("trigger");
    let products = env.read("cat/products.csv").replacen(",new,", ",used,", 3);
    env.write("cat/products.csv", products);
    let run = env.run(&["push", "--no-progress", "--format", "json"]);
    run.expect_code(3);
    let report = run.json();
    assert_eq!(report["feeds"][0]["outcome"], "ok");
    assert_eq!(report["feeds"][0]["totals"]["changed"], 3);
    assert!(
        run.stderr().contains("simulated disk full"),
        "{}",
        run.stderr()
    );
    assert!(!has_changes(&env), "the items were recorded");
}
