//! Kill a writer process at random moments; the store must hold whole pushes only.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::{accepted, fields, t};
use crate::state::*;

const ENV: &str = "OMNIFEED_STATE_KILL_WRITER";
const ITEMS: usize = 5_000;

/// Writer mode for the kill test: pushes every item with new content, run after run, until
/// killed. Ignored in normal runs, and a no-op unless the env var names the store.
#[test]
#[ignore = "run as a child by kill_mid_write_leaves_whole_pushes"]
fn kill_writer() {
    let Ok(path) = std::env::var(ENV) else { return };
    let mut store = SqliteStore::open(std::path::Path::new(&path)).expect("open");
    loop {
        let run = store
            .begin_run("push", &["feed"], None, t(0))
            .expect("begin");
        let price = format!("{}.00 EUR", run.0);
        let items = (0..ITEMS).map(|i| accepted(format!("K{i}"), fields(&price, "in_stock")));
        store
            .record_push("feed", run, items, &[], t(1))
            .expect("record");
        store
            .finish_run(run, Outcome::Ok, &[], t(2))
            .expect("finish");
    }
}

#[test]
fn kill_mid_write_leaves_whole_pushes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("state.db");
    let exe = std::env::current_exe().expect("test binary");
    let deadline = Instant::now() + Duration::from_secs(15);
    let mut seed = u64::from(std::process::id());
    let mut runs_seen = 0;
    for round in 0..6 {
        if Instant::now() > deadline {
            break;
        }
        let mut child = Command::new(&exe)
            .args([
                "--exact",
                "state::tests::kill::kill_writer",
                "--ignored",
                "--test-threads=1",
            ])
            .env(ENV, &path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn writer");
        // xorshift: a cheap random kill moment, different per round and per run.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(300 + seed % 900));
        child.kill().expect("kill");
        child.wait().expect("reap");
        runs_seen = runs_seen.max(check_whole(&path, round));
    }
    // Without this the test would pass against a writer that never got to write.
    assert!(runs_seen > 1, "the writer never recorded a push");
}

/// Checks the store and returns the number of recorded runs.
fn check_whole(path: &std::path::Path, round: u32) -> usize {
    let store = SqliteStore::open(path).expect("store opens after a kill");
    let hashes = store.accepted_hashes("feed").expect("hashes");
    let recorded: Vec<RunDetail> = store
        .runs(1000)
        .expect("runs")
        .into_iter()
        .filter_map(|r| store.run(r.id).expect("run"))
        .filter(|d| d.feeds.iter().any(|f| f.recorded_at.is_some()))
        .collect();
    let Some(last) = recorded.first() else {
        assert!(
            hashes.is_empty(),
            "round {round}: items without a recorded run"
        );
        return 0;
    };
    // Every item carries the content of the last recorded run, and that run's count.
    assert_eq!(hashes.len(), ITEMS, "round {round}");
    assert_eq!(last.feeds[0].counts.accepted, ITEMS as u64, "round {round}");
    let price = format!("{}.00 EUR", last.summary.id.0);
    let expected = crate::diff::content_hash(&fields(&price, "in_stock"));
    assert!(
        hashes.values().all(|&h| h == expected),
        "round {round}: mixed runs"
    );
    let sample = store
        .accepted_fields("feed", &["K0", "K4999"])
        .expect("fields");
    assert!(
        sample.values().all(|f| f["price"] == price),
        "round {round}"
    );
    recorded.len()
}
