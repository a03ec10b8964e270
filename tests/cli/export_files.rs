//! How export writes files: splitting at a spec's limits, refusing past a `fail` limit, gzip,
//! atomic replacement, exit codes, and user channel specs.

use std::collections::BTreeSet;
use std::io::Read;
use std::path::Path;

use crate::export_support::{export_json, feed_files, feed_report, records};
use crate::support::{TestEnv, repo_root};

/// `channel-specs/tiny.toml`: the shipped Pinterest spec as a new channel `tiny` whose CSV
/// format allows 100 items per file, with `on_limit` as given.
fn write_tiny_spec(env: &TestEnv, on_limit: &str) {
    let shipped =
        std::fs::read_to_string(repo_root().join("channel-specs/pinterest.toml")).expect("spec");
    assert!(shipped.contains("id = \"pinterest\"") && shipped.contains("[formats.csv]\n"));
    let tiny = shipped
        .replacen("id = \"pinterest\"", "id = \"tiny\"", 1)
        .replacen(
            "[formats.csv]\n",
            &format!("[formats.csv]\nmax_items = 100\non_limit = \"{on_limit}\"\n"),
            1,
        );
    env.write("channel-specs/tiny.toml", tiny);
    env.write("feeds/tiny.toml", "channel = \"tiny\"\nformat = \"csv\"\n");
}

fn data_rows(path: &Path) -> (String, Vec<String>) {
    let text = std::fs::read_to_string(path).expect("read csv");
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader
        .headers()
        .expect("header")
        .iter()
        .collect::<Vec<_>>()
        .join(",");
    let rows = reader
        .records()
        .map(|r| r.expect("row").iter().collect::<Vec<_>>().join("\u{1f}"))
        .collect();
    (header, rows)
}

/// Every file under `dir` (relative path -> bytes), except the feeds' lists of parts.
fn snapshot(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut files = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).expect("read dir") {
            let path = entry.expect("entry").path();
            let list = path
                .file_name()
                .is_some_and(|n| crate::support::is_parts_list(&n.to_string_lossy()));
            if path.is_dir() {
                stack.push(path);
            } else if !list {
                let name = path
                    .strip_prefix(dir)
                    .expect("under dir")
                    .display()
                    .to_string();
                files.insert(name, std::fs::read(&path).expect("read file"));
            }
        }
    }
    files
}

#[test]
fn export_splits_at_a_user_specs_item_limit_into_numbered_files() {
    let env = TestEnv::with_example();
    write_tiny_spec(&env, "split");
    // The same channel without a limit, for the unsplit rows.
    env.write(
        "feeds/whole.toml",
        "channel = \"pinterest\"\nformat = \"csv\"\n",
    );
    let report = export_json(&env, "out", &["tiny", "whole"]);
    let tiny = feed_report(&report, "tiny");
    let files = feed_files(&env, tiny);
    let names: Vec<String> = files
        .iter()
        .map(|f| f.file_name().expect("name").to_string_lossy().into_owned())
        .collect();
    let count = records(tiny);
    assert!(count > 200, "enough records to split: {count}");
    let expected: Vec<String> = (1..=count.div_ceil(100))
        .map(|n| format!("tiny-{n:04}.csv"))
        .collect();
    assert_eq!(names, expected, "numbered parts");
    assert!(!env.path("out/tiny.csv").exists(), "no unsplit file");
    let (whole_header, whole_rows) = data_rows(&feed_files(&env, feed_report(&report, "whole"))[0]);
    let mut joined = Vec::new();
    for file in &files {
        let (header, rows) = data_rows(file);
        assert_eq!(header, whole_header, "every part has the header");
        assert!(!rows.is_empty() && rows.len() <= 100, "{} rows", rows.len());
        joined.extend(rows);
    }
    assert_eq!(joined.len(), count, "parts hold every record");
    assert_eq!(joined, whole_rows, "parts in order are the unsplit feed");
}

#[test]
fn export_refuses_a_feed_past_a_fail_limit_and_leaves_old_files_untouched() {
    let env = TestEnv::with_example();
    write_tiny_spec(&env, "fail");
    let old_tiny = env.write("out/tiny.csv", "old tiny\n");
    let old_pinterest = env.write("out/pinterest.csv", "old pinterest\n");
    let run = env.run(&[
        "export",
        "--no-progress",
        "--out",
        "out",
        "tiny",
        "pinterest",
    ]);
    // A channel limit the spec says not to split past is the data's size: exit 1, data.
    run.expect_code(1);
    let stderr = run.stderr();
    assert!(
        stderr.contains("tiny") && stderr.contains("100 items per file"),
        "message names the feed and the limit:\n{stderr}"
    );
    assert_eq!(
        std::fs::read_to_string(old_tiny).expect("read"),
        "old tiny\n"
    );
    assert_eq!(
        std::fs::read_to_string(old_pinterest).expect("read"),
        "old pinterest\n",
        "the other feed of the failed run is not replaced either"
    );
    let left: BTreeSet<String> = snapshot(&env.path("out")).into_keys().collect();
    assert_eq!(
        left,
        BTreeSet::from(["tiny.csv".to_owned(), "pinterest.csv".to_owned()]),
        "no partial files are left behind"
    );
}

#[test]
fn export_failing_on_an_unwritable_destination_leaves_old_files_untouched() {
    let env = TestEnv::with_example();
    env.write("blocked", "a file where a folder should be\n");
    env.write(
        "feeds/blocked.toml",
        "channel = \"pinterest\"\nformat = \"csv\"\n\n[destination]\nkind = \"dir\"\npath = \"blocked/sub\"\n",
    );
    env.write(
        "feeds/fine.toml",
        "channel = \"pinterest\"\nformat = \"csv\"\n\n[destination]\nkind = \"dir\"\npath = \"fine\"\n",
    );
    let old = env.write("fine/fine.csv", "old\n");
    let run = env.run(&["export", "--no-progress", "fine", "blocked"]);
    // A folder that cannot be created is an output failure: exit 3.
    run.expect_code(3);
    assert!(
        run.stderr().contains("blocked"),
        "message names the feed or folder:\n{}",
        run.stderr()
    );
    assert_eq!(std::fs::read_to_string(old).expect("read"), "old\n");
    assert_eq!(
        snapshot(&env.path("fine")).len(),
        1,
        "nothing else in fine/"
    );
}

#[test]
fn export_gzip_decompresses_to_the_plain_output() {
    let env = TestEnv::with_example();
    let google = env.read("feeds/google-shopping.toml");
    env.write(
        "feeds/zipped.toml",
        google.replacen(
            "file = \"google-shopping\"",
            "file = \"zipped\"\ngzip = true",
            1,
        ),
    );
    let report = export_json(&env, "out", &["google-shopping", "zipped"]);
    let zipped = feed_files(&env, feed_report(&report, "zipped"));
    let plain = feed_files(&env, feed_report(&report, "google-shopping"));
    assert_eq!(zipped.len(), 1);
    assert!(zipped[0].to_string_lossy().ends_with("zipped.xml.gz"));
    let mut decoded = Vec::new();
    flate2::read::GzDecoder::new(std::fs::File::open(&zipped[0]).expect("open gz"))
        .read_to_end(&mut decoded)
        .expect("valid gzip");
    let plain = std::fs::read(&plain[0]).expect("read plain");
    assert!(!plain.is_empty());
    assert!(decoded == plain, "gzip content equals the plain feed");
}

#[test]
fn export_of_the_bundled_example_exits_0() {
    let env = TestEnv::new();
    let config = repo_root().join("omnifeed.toml");
    let config = config.to_str().expect("utf-8 path");
    let run = env.run(&[
        "export",
        "--no-progress",
        "--config",
        config,
        "--out",
        "out",
    ]);
    run.expect_code(0);
    let written: BTreeSet<String> = snapshot(&env.path("out")).into_keys().collect();
    let feeds: BTreeSet<String> = std::fs::read_dir(repo_root().join("feeds"))
        .expect("feeds")
        .map(|e| {
            let path = e.expect("entry").path();
            path.file_stem()
                .expect("stem")
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert_eq!(written.len(), feeds.len(), "one file per feed: {written:?}");
}

#[test]
fn export_of_an_unknown_feed_exits_2_and_suggests_the_closest() {
    let env = TestEnv::with_example();
    let run = env.run(&["export", "--no-progress", "google-shoping"]);
    run.expect_code(2);
    let stderr = run.stderr();
    assert!(stderr.contains("google-shoping"), "{stderr}");
    assert!(
        stderr.contains("google-shopping"),
        "suggests the name:\n{stderr}"
    );
}

#[test]
fn export_with_an_unknown_key_in_a_feed_exits_2() {
    let env = TestEnv::with_example();
    env.write(
        "feeds/pinterest.toml",
        "channel = \"pinterest\"\nformat = \"csv\"\nin_stock_onyl = true\n",
    );
    let run = env.run(&["export", "--no-progress", "--out", "out"]);
    run.expect_code(2);
    assert!(run.stderr().contains("in_stock_onyl"), "{}", run.stderr());
    assert!(!env.path("out").exists(), "nothing written");
}

#[test]
fn export_of_a_feed_naming_an_unknown_channel_exits_2() {
    let env = TestEnv::with_example();
    env.write("feeds/pinterest.toml", "channel = \"pintrest\"\n");
    let run = env.run(&["export", "--no-progress", "--out", "out"]);
    run.expect_code(2);
    assert!(run.stderr().contains("pintrest"), "{}", run.stderr());
    assert!(!env.path("out").exists(), "nothing written");
}

#[test]
fn channels_lists_the_shipped_specs_and_the_users_own() {
    let env = TestEnv::with_example();
    write_tiny_spec(&env, "split");
    let rows = env
        .run(&["channels", "--format", "json"])
        .expect_code(0)
        .json();
    let rows = rows.as_array().expect("array");
    let ids: BTreeSet<&str> = rows.iter().map(|r| r["id"].as_str().expect("id")).collect();
    let mut expected: BTreeSet<&str> = [
        "amazon-listings",
        "google-local-inventory",
        "google-merchant",
        "meta-catalog",
        "microsoft-merchant",
        "openai",
        "pinterest",
        "tiktok",
    ]
    .into();
    for id in &expected {
        let row = rows.iter().find(|r| r["id"] == *id).expect("listed");
        assert_eq!(row["origin"], "shipped", "{id}");
    }
    expected.insert("tiny");
    assert_eq!(ids, expected);
    let tiny = rows.iter().find(|r| r["id"] == "tiny").expect("tiny");
    assert_ne!(tiny["origin"], "shipped");
    // The human listing names it too.
    let human = env.run(&["channels"]).expect_code(0).stdout();
    for id in &expected {
        assert!(human.contains(id), "{id} in:\n{human}");
    }
}

/// Feed files are created like any other file (mode 0666 less the umask), not with the
/// owner-only mode of a temporary file: a web server or uploader running as another user
/// must be able to read them.
#[cfg(unix)]
#[test]
fn export_files_get_the_usual_permissions_not_a_temp_files() {
    use crate::support::mode;
    let env = TestEnv::with_example();
    let report = export_json(&env, "out", &["pinterest"]);
    let reference = env.write("reference.txt", "made by the test under the same umask\n");
    for file in feed_files(&env, feed_report(&report, "pinterest")) {
        assert_eq!(mode(&file), mode(&reference), "{}", file.display());
    }
}

/// Finished parts hold no open files: a feed split into 150 parts exports under a limit of
/// 64 open files per process.
#[cfg(target_os = "linux")]
#[test]
fn a_feed_split_into_many_parts_does_not_run_out_of_file_handles() {
    let env = TestEnv::with_example();
    let shipped =
        std::fs::read_to_string(repo_root().join("channel-specs/pinterest.toml")).expect("spec");
    let tiny = shipped
        .replacen("id = \"pinterest\"", "id = \"tiny\"", 1)
        .replacen(
            "[formats.csv]\n",
            "[formats.csv]\nmax_items = 2\non_limit = \"split\"\n",
            1,
        );
    env.write("channel-specs/tiny.toml", tiny);
    env.write("feeds/tiny.toml", "channel = \"tiny\"\nformat = \"csv\"\n");
    let binary = assert_cmd::cargo::cargo_bin("omnifeed");
    let output = std::process::Command::new("sh")
        .arg("-c")
        .arg("ulimit -n 64 && exec \"$0\" export tiny --out out --format json")
        .arg(&binary)
        .current_dir(env.dir.path())
        .output()
        .expect("run omnifeed under sh");
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|_| {
        panic!(
            "no JSON report: {}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let tiny = feed_report(&report, "tiny");
    let files = feed_files(&env, tiny);
    let written = tiny["items_written"].as_u64().expect("items_written");
    assert!(written > 128, "{tiny}");
    assert_eq!(files.len() as u64, written.div_ceil(2), "{tiny}");
    let rows: usize = files.iter().map(|f| data_rows(f).1.len()).sum();
    assert_eq!(rows as u64, written);
}
