//! Staging per feed, and what a killed push leaves for the next one (issue #8 points 3, 4).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::support::TestEnv;

const CONFIG: &str = "[catalog]\ndir = \"cat\"\n";

fn feed(file: &str, dir: &str) -> String {
    format!(
        "channel = \"google-merchant\"\nformat = \"xml\"\nfile = \"{file}\"\n\n\
         [destination]\nkind = \"dir\"\npath = \"{dir}\"\n"
    )
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn staging_folders(env: &TestEnv) -> Vec<String> {
    names(&env.path(".omnifeed"))
        .into_iter()
        .filter(|name| name.starts_with("push-staging-"))
        .collect()
}

/// Two feeds with the same file name, bound for two folders, push fine and each folder gets
/// the feed an export writes for it.
#[test]
fn two_feeds_with_one_file_name_in_two_folders_push() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/shop-a.toml", feed("shop", "out/a"));
    // Only one brand in the second feed, so the two files differ.
    env.write(
        "feeds/shop-b.toml",
        feed("shop", "out/b").replace(
            "\n[destination]",
            "[filters]\nbrands = [\"Contoso\"]\n\n[destination]",
        ),
    );
    env.generate(
        "cat",
        &["--variants", "300", "--stores", "2", "--seed", "4"],
    );
    let run = env.run(&["push", "--no-progress", "--format", "json"]);
    run.expect_code(0);
    let report = run.json();
    assert_eq!(report["outcome"], "ok", "{report}");
    for (feed, dir) in [("shop-a", "a"), ("shop-b", "b")] {
        env.run(&[
            "export",
            "--no-progress",
            feed,
            "--out",
            &format!("fresh/{dir}"),
        ])
        .expect_code(0);
        let delivered = std::fs::read(env.path(&format!("out/{dir}/shop.xml"))).expect(feed);
        let exported = std::fs::read(env.path(&format!("fresh/{dir}/shop.xml"))).expect(feed);
        assert!(
            delivered == exported,
            "{feed}: the delivered file is its export"
        );
    }
    assert_ne!(
        std::fs::read(env.path("out/a/shop.xml")).expect("a"),
        std::fs::read(env.path("out/b/shop.xml")).expect("b")
    );
    assert!(staging_folders(&env).is_empty());
    let diff = env.run(&["diff", "--format", "json", "--no-progress"]);
    assert_eq!(diff.json()["has_changes"], false);
}

/// A push killed (SIGKILL) in the middle of staging leaves its staging folder and a
/// `running` run; the next push removes the folder, marks the run `interrupted`, delivers
/// and converges, leaving no temp files anywhere.
#[test]
fn a_push_killed_mid_run_is_cleaned_up_by_the_next_one() {
    let env = TestEnv::new();
    env.write("omnifeed.toml", CONFIG);
    env.write("feeds/google.toml", feed("google", "out"));
    env.generate(
        "cat",
        &["--variants", "6000", "--stores", "2", "--seed", "8"],
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_omnifeed"))
        .current_dir(env.dir.path())
        .args(["push", "--no-progress"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn push");
    // Killed once its staging folder exists: the second engine pass is under way.
    while staging_folders(&env).is_empty() {
        if child.try_wait().expect("wait").is_some() {
            panic!("the push ended before it was killed; give it a bigger catalog");
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    child.kill().expect("SIGKILL");
    child.wait().expect("wait");
    assert_eq!(
        staging_folders(&env).len(),
        1,
        "the killed run left its staging"
    );
    // The one-pass push begins its run after staging: a kill there may leave no run yet.
    let runs = env.run(&["runs", "--format", "json"]).json();
    let killed_run = runs["runs"][0]["outcome"] == "running";

    env.run(&["push", "--no-progress"]).expect_code(0);
    assert!(
        staging_folders(&env).is_empty(),
        "{:?}",
        names(&env.path(".omnifeed"))
    );
    // The feed and the list of its parts (see `FeedFiles::publish`); no temporary file.
    assert_eq!(
        names(&env.path("out")),
        [".google.xml.parts", "google.xml"],
        "no temp files delivered"
    );
    let runs = env.run(&["runs", "--format", "json"]).json();
    let outcomes: Vec<&str> = runs["runs"]
        .as_array()
        .expect("runs")
        .iter()
        .map(|run| run["outcome"].as_str().expect("outcome"))
        .collect();
    let expected: &[&str] = if killed_run {
        &["ok", "interrupted"]
    } else {
        &["ok"]
    };
    assert_eq!(outcomes, expected);
    let diff = env.run(&["diff", "--format", "json", "--no-progress"]);
    assert_eq!(diff.json()["has_changes"], false);
    env.run(&["export", "--no-progress", "--out", "fresh"])
        .expect_code(0);
    assert!(
        std::fs::read(env.path("out/google.xml")).expect("delivered")
            == std::fs::read(env.path("fresh/google.xml")).expect("exported")
    );
    assert_eq!(
        names(&env.path(".omnifeed")),
        ["state.db", "state.db-shm", "state.db-wal", "state.db.lock"]
            .into_iter()
            .filter(|name| env.path(".omnifeed").join(name).exists())
            .collect::<Vec<_>>()
    );
}
