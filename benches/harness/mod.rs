//! What the item-push benchmarks share: arguments, the cached generated catalog, a copy of
//! it with some titles changed, and running omnifeed with its wall time and peak RSS.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// A file of the reference data in `shared/`, beside the project.
pub(crate) fn shared(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared")
        .join(relative)
}

/// The number after `name` on the command line, or `default`.
pub(crate) fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// Starts `argv` from a fork of this small Python process and reports the child's own
/// peak RSS. Spawned straight from the benchmark, whose server holds every document it
/// received, the child's `ru_maxrss` would start at the benchmark's size: Linux carries
/// the spawning process's high-water mark across `exec`.
const MEASURE: &str = r#"
import os, sys
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
_, status, usage = os.wait4(pid, 0)
with open(out, "w") as f:
    f.write(f"{usage.ru_maxrss} {os.waitstatus_to_exitcode(status)}")
"#;

/// Runs omnifeed in `dir` with `env` set; returns (wall seconds, peak RSS MiB, exit code).
pub(crate) fn timed(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> (f64, f64, i32) {
    let report = tempfile::NamedTempFile::new().expect("report file");
    let started = Instant::now();
    let status = Command::new("python3")
        .args(["-c", MEASURE])
        .arg(report.path())
        .arg(env!("CARGO_BIN_EXE_omnifeed"))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(dir)
        .stdout(std::process::Stdio::null())
        .status()
        .expect("python3");
    let wall = started.elapsed().as_secs_f64();
    assert!(status.success(), "the measuring python3 failed");
    let measured = std::fs::read_to_string(report.path()).expect("measured");
    let (rss_kib, code) = measured.split_once(' ').expect("two numbers");
    let rss_kib: f64 = rss_kib.parse().expect("peak RSS");
    (wall, rss_kib / 1024.0, code.parse().expect("exit code"))
}

/// The generated catalog of `variants` variants and `stores` stores, made once into
/// `target/bench-data/` (as `benches/bench.py` does).
pub(crate) fn catalog(variants: u64, stores: u64) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("v{variants}-s{stores}"));
    if !path.join("defects.json").exists() {
        eprintln!(
            "generating {variants} variants, {stores} stores into {} ...",
            path.display()
        );
        let status = Command::new("python3")
            .arg(shared("tools/gen_catalog.py"))
            .arg(&path)
            .args([
                "--variants",
                &variants.to_string(),
                "--stores",
                &stores.to_string(),
            ])
            .stdout(std::process::Stdio::null())
            .status()
            .expect("python3");
        assert!(status.success(), "gen_catalog.py failed");
    }
    path
}

/// Copies the catalog into `to`, with the title of the first `changed` rows that have
/// every `(column, value)` of `only` changed.
pub(crate) fn copy_catalog(from: &Path, to: &Path, changed: u64, only: &[(&str, &str)]) {
    std::fs::create_dir_all(to).expect("catalog dir");
    for name in ["inventory.csv", "locations.csv"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).expect("copy");
        }
    }
    let mut reader = csv::Reader::from_path(from.join("products.csv")).expect("products");
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let title = column("title");
    let only: Vec<(usize, &str)> = only
        .iter()
        .map(|(name, value)| (column(name), *value))
        .collect();
    let mut writer = csv::Writer::from_path(to.join("products.csv")).expect("write");
    writer.write_record(&header).expect("header");
    let mut record = csv::StringRecord::new();
    let mut left = changed;
    while reader.read_record(&mut record).expect("row") {
        if left > 0 && only.iter().all(|&(i, value)| &record[i] == value) {
            left -= 1;
            let edited: csv::StringRecord = record
                .iter()
                .enumerate()
                .map(|(i, v)| {
                    if i == title {
                        format!("{v} v2")
                    } else {
                        v.to_owned()
                    }
                })
                .collect();
            writer.write_record(&edited).expect("row");
        } else {
            writer.write_record(&record).expect("row");
        }
    }
    writer.flush().expect("flush");
}
