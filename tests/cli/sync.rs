//! `omnifeed sync` for cron (issue #13 point 1): quiet on success, a JSON report per run kept
//! beside the history, logs on stderr (text or JSON), one run at a time, and one feed's
//! failure never stopping another.

use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::{TestEnv, dir_feed};

const LOCK: &str = ".omnifeed/state.db.lock";
const REPORTS: &str = ".omnifeed/runs";

pub(crate) fn project(variants: u32) -> TestEnv {
    let env = TestEnv::new();
    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write("feeds/google.toml", dir_feed("google-merchant", "xml", ""));
    env.generate(
        "cat",
        &[
            "--variants",
            &variants.to_string(),
            "--stores",
            "2",
            "--seed",
            "5",
        ],
    );
    env
}

/// The reports in the default folder, oldest first, parsed.
pub(crate) fn reports(env: &TestEnv) -> Vec<serde_json::Value> {
    env.files(REPORTS)
        .into_iter()
        .filter(|(name, _)| name.starts_with("sync-") && name.ends_with(".json"))
        .map(|(_, bytes)| serde_json::from_slice(&bytes).expect("report is JSON"))
        .collect()
}

fn spawn_sync(env: &TestEnv) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_omnifeed"))
        .current_dir(env.dir.path())
        .args(["sync", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn sync")
}

fn runs(env: &TestEnv) -> Vec<serde_json::Value> {
    env.run(&["runs", "--format", "json"]).expect_code(0).json()["runs"]
        .as_array()
        .expect("runs")
        .clone()
}

/// A run that went well prints nothing at all (cron mails nothing), writes its report and
/// is in `omnifeed runs` as a `sync` run with the report's id; `-v` says what each feed did.
#[test]
fn a_good_run_is_silent_and_leaves_a_report_kept_in_runs() {
    let env = project(60);
    let run = env.run(&["sync"]);
    run.expect_code(0);
    assert_eq!(run.stdout(), "");
    assert_eq!(run.stderr(), "", "quiet on success");
    assert!(
        env.path("out/google.xml").is_file(),
        "the feed was delivered"
    );

    let reports = reports(&env);
    assert_eq!(reports.len(), 1);
    let report = &reports[0];
    let history = runs(&env);
    assert_eq!(history[0]["command"], "sync");
    assert_eq!(history[0]["outcome"], "ok");
    assert_eq!(report["run"], history[0]["id"]);
    assert_eq!(report["command"], "sync");
    assert_eq!(report["outcome"], "ok");
    assert_eq!(report["exit_code"], 0);
    assert_eq!(report["feeds"][0]["feed"], "google");
    assert_eq!(report["feeds"][0]["outcome"], "ok");
    assert_eq!(report["feeds"][0]["totals"]["added"], 60);
    assert_eq!(report["catalog"]["variants"], 60);
    assert_eq!(report["catalog"]["errors"], 0);

    let verbose = env.run(&["sync", "-v"]);
    verbose.expect_code(0);
    assert_eq!(verbose.stdout(), "");
    let log = verbose.stderr();
    assert!(
        log.contains("feed pushed")
            && log.contains("feed=\"google\"")
            && log.contains("unchanged=60"),
        "{log}"
    );
    assert!(log.contains("sync run 2 ok"), "{log}");
}

/// The note that `--jobs` is held to a few threads per core is a log line like the others:
/// JSON under `--log-format json`, so a log shipper reads every stderr line.
#[test]
fn the_jobs_note_is_a_json_log_line() {
    let env = project(5);
    let run = env.run(&["sync", "--log-format", "json", "--jobs", "100000"]);
    run.expect_code(0);
    let lines: Vec<serde_json::Value> = run
        .stderr()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let note = lines
        .iter()
        .find(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.contains("--jobs 100000 is more than"))
        })
        .unwrap_or_else(|| panic!("no --jobs note in {lines:?}"));
    assert_eq!(note["level"], "WARN", "{note}");
    assert_eq!(note["requested"], 100000, "{note}");
    assert!(
        note["used"].as_u64().is_some_and(|used| used >= 4),
        "{note}"
    );

    // In text logs it is a WARN line too, not a bare note.
    let run = env.run(&["sync", "--jobs", "100000"]);
    run.expect_code(0);
    let stderr = run.stderr();
    assert!(
        stderr.contains("WARN") && stderr.contains("--jobs 100000 is more than"),
        "{stderr}"
    );
    assert!(!stderr.contains("note: --jobs"), "{stderr}");
}

/// `--log-format json`: every stderr line is one JSON object with level and message;
/// `--report` with `{run}` names the file after the run.
#[test]
fn json_logs_and_a_report_path_of_ones_own() {
    let env = project(30);
    let run = env.run(&[
        "sync",
        "-v",
        "--log-format",
        "json",
        "--report",
        "reports/run-{run}.json",
    ]);
    run.expect_code(0);
    let lines: Vec<serde_json::Value> = run
        .stderr()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect();
    let pushed = lines
        .iter()
        .find(|line| line["message"] == "feed pushed")
        .expect("a feed line");
    assert_eq!(pushed["level"], "INFO");
    assert_eq!(pushed["feed"], "google");
    assert_eq!(pushed["added"], 30);
    let report: serde_json::Value =
        serde_json::from_str(&env.read("reports/run-1.json")).expect("report");
    assert_eq!(report["run"], 1);

    // `--format json` prints the same report on stdout.
    let run = env.run(&[
        "sync",
        "--format",
        "json",
        "--report",
        "reports/run-{run}.json",
    ]);
    run.expect_code(0);
    let written: serde_json::Value =
        serde_json::from_str(&env.read("reports/run-2.json")).expect("report");
    assert_eq!(run.json(), written);
}

/// A catalog that cannot be read stops the run before it begins: exit 2, logged, and a
/// report with the error (and no run id) all the same.
#[test]
fn an_unreadable_catalog_still_leaves_a_report() {
    let env = project(10);
    std::fs::remove_file(env.path("cat/products.csv")).expect("remove");
    let run = env.run(&["sync"]);
    run.expect_code(2);
    assert!(run.stderr().contains("products.csv"), "{}", run.stderr());
    let report = &reports(&env)[0];
    assert_eq!(report["outcome"], "error");
    assert_eq!(report["run"], serde_json::Value::Null);
    assert_eq!(report["exit_code"], 2);
    assert!(
        report["error"]
            .as_str()
            .is_some_and(|e| e.contains("products.csv")),
        "{report}"
    );
}

/// Two syncs started together: exactly one runs; the other exits 4 at once, naming the
/// holder, and writes no report.
#[test]
fn two_syncs_started_together_one_refused_with_code_4() {
    let env = project(5000);
    let mut first = spawn_sync(&env);
    let mut second = spawn_sync(&env);
    let (refused, winner) = loop {
        if let Some(status) = first.try_wait().expect("wait") {
            break ((status, first), second);
        }
        if let Some(status) = second.try_wait().expect("wait") {
            break ((status, second), first);
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    let (status, refused) = refused;
    let mut winner = winner;
    let refused = refused.wait_with_output().expect("output");
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert_eq!(status.code(), Some(4), "stderr: {stderr}");
    assert!(
        winner.try_wait().expect("wait").is_none(),
        "the refused sync ended only after the other one"
    );
    let holder = format!("pid {}", winner.id());
    assert!(
        stderr.contains(&holder)
            && stderr.contains("started at")
            && stderr.contains("command sync"),
        "names the holder ({holder}): {stderr}"
    );
    let won = winner.wait_with_output().expect("output");
    assert_eq!(
        won.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&won.stderr)
    );
    assert_eq!(
        reports(&env).len(),
        1,
        "only the run that ran wrote a report"
    );
    assert_eq!(runs(&env).len(), 1);
}

/// A sync killed while it holds the lock leaves it to the next run, which takes it over at
/// once and marks the killed run, if it had begun, `interrupted`.
#[cfg(unix)]
#[test]
fn a_lock_held_by_a_killed_sync_is_taken_over() {
    use std::os::unix::process::ExitStatusExt;

    let env = project(5000);
    let mut victim = spawn_sync(&env);
    let holder = format!("pid {}\n", victim.id());
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while !std::fs::read_to_string(env.path(LOCK)).is_ok_and(|text| text.starts_with(&holder)) {
        assert!(
            std::time::Instant::now() < deadline,
            "the sync never took the lock"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    victim.kill().expect("kill");
    let status = victim.wait().expect("wait");
    assert_eq!(status.signal(), Some(9), "killed while it ran, not after");

    let started = std::time::Instant::now();
    let next = env.run(&["sync", "--no-progress"]);
    next.expect_code(0);
    assert!(started.elapsed() < Duration::from_secs(120));
    assert!(
        !env.read(LOCK).contains(&holder),
        "the lock names the new holder: {}",
        env.read(LOCK)
    );
    let outcomes: Vec<String> = runs(&env)
        .iter()
        .map(|run| run["outcome"].as_str().expect("outcome").to_owned())
        .collect();
    assert_eq!(outcomes[0], "ok");
    assert!(
        outcomes[1..].iter().all(|outcome| outcome == "interrupted"),
        "{outcomes:?}"
    );
}

/// One feed whose destination cannot be written: the other feed is still delivered and
/// recorded, the run exits 3, the log and the report say which feed failed and why; once
/// the destination is fixed, the next run delivers it.
#[test]
fn a_failing_destination_does_not_stop_the_other_feeds() {
    let env = project(80);
    env.write("blocker", "a file where the feed's folder should be");
    env.write(
        "feeds/meta.toml",
        "channel = \"meta-catalog\"\nformat = \"csv\"\n[destination]\nkind = \"dir\"\npath = \"blocker/meta\"\n",
    );
    let run = env.run(&["sync"]);
    run.expect_code(3);
    assert_eq!(run.stdout(), "");
    let log = run.stderr();
    assert!(
        log.contains("feed `meta` not delivered") && log.contains("blocker/meta"),
        "{log}"
    );
    assert!(
        !log.contains("feed `google`"),
        "the good feed is not an error: {log}"
    );
    assert!(env.path("out/google.xml").is_file(), "google delivered");

    let report = &reports(&env)[0];
    assert_eq!(report["outcome"], "failed");
    assert_eq!(report["exit_code"], 3);
    let feeds = report["feeds"].as_array().expect("feeds");
    let outcome = |id: &str| {
        feeds
            .iter()
            .find(|feed| feed["feed"] == id)
            .unwrap_or_else(|| panic!("feed {id}"))
            .clone()
    };
    assert_eq!(outcome("google")["outcome"], "ok");
    assert_eq!(outcome("google")["recorded"]["accepted"], 80);
    assert_eq!(outcome("meta")["outcome"], "failed");
    assert!(
        outcome("meta")["error"]
            .as_str()
            .is_some_and(|e| e.contains("blocker/meta")),
        "{report}"
    );
    let diff = env
        .run(&["diff", "--format", "json", "--no-progress"])
        .json();
    let changes: Vec<(String, u64)> = diff["feeds"]
        .as_array()
        .expect("feeds")
        .iter()
        .map(|feed| {
            (
                feed["feed"].as_str().expect("feed").to_owned(),
                feed["totals"]["added"].as_u64().expect("added"),
            )
        })
        .collect();
    assert_eq!(changes, [("google".to_owned(), 0), ("meta".to_owned(), 80)]);

    std::fs::remove_file(env.path("blocker")).expect("fix the destination");
    env.run(&["sync"]).expect_code(0);
    assert!(env.path("blocker/meta/meta.csv").is_file());
}

/// Catalog rows with an error are left out and the run says so with exit 1, while the
/// valid rows are still delivered.
#[test]
fn catalog_errors_exit_1_and_the_rest_is_delivered() {
    let env = project(40);
    let mut reader = csv::Reader::from_path(env.path("cat/products.csv")).expect("products");
    let header = reader.headers().expect("header").clone();
    let price = header
        .iter()
        .position(|c| c == "price")
        .expect("price column");
    let mut writer = csv::Writer::from_path(env.path("cat/broken.csv")).expect("write");
    writer.write_record(&header).expect("header");
    for (index, record) in reader.records().enumerate() {
        let mut cells: Vec<String> = record.expect("row").iter().map(str::to_owned).collect();
        if index == 0 {
            cells[price] = "twelve".to_owned();
        }
        writer.write_record(&cells).expect("row");
    }
    writer.flush().expect("flush");
    drop(writer);
    std::fs::rename(env.path("cat/broken.csv"), env.path("cat/products.csv")).expect("rename");

    let run = env.run(&["sync"]);
    run.expect_code(1);
    assert!(
        run.stderr().contains("invalid-price") && run.stderr().contains("products.csv:2"),
        "{}",
        run.stderr()
    );
    let report = &reports(&env)[0];
    assert_eq!(report["catalog"]["errors"], 1);
    assert_eq!(report["findings"][0]["rule"], "invalid-price");
    assert_eq!(report["feeds"][0]["outcome"], "ok");
    assert_eq!(report["feeds"][0]["recorded"]["accepted"], 39);
}

/// A config that cannot be read is a usage error (2) logged on stderr; a held lock is 4.
#[test]
fn a_bad_config_exits_2_and_a_held_lock_4() {
    let env = project(10);
    env.write(
        "omnifeed.toml",
        "[catalog]\ndir = \"cat\"\n[notify]\nwebhook = \"ftp://x\"\n",
    );
    let run = env.run(&["sync", "--log-format", "json"]);
    run.expect_code(2);
    let line: serde_json::Value =
        serde_json::from_str(run.stderr().lines().next().expect("a log line")).expect("JSON");
    assert_eq!(line["level"], "ERROR");
    assert!(
        line["message"]
            .as_str()
            .is_some_and(|m| m.contains("[notify]")),
        "{line}"
    );

    env.write("omnifeed.toml", "[catalog]\ndir = \"cat\"\n");
    env.write(
        LOCK,
        "pid 4242\nstarted 2026-01-02T03:04:05Z\ncommand sync\n",
    );
    let held = std::fs::File::options()
        .read(true)
        .write(true)
        .open(env.path(LOCK))
        .expect("lock file");
    held.try_lock().expect("the test takes the lock");
    let run = env.run(&["sync"]);
    run.expect_code(4);
    assert!(run.stderr().contains("pid 4242"), "{}", run.stderr());
    assert!(
        !env.path(REPORTS).exists(),
        "a refused run writes no report"
    );
}
