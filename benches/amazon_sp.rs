//! Item-level push benchmark for Amazon (issue #12): a delta push of CHANGED changed
//! listings of a VARIANTS-variant catalog to the local SP-API of the tests (the same
//! server: it checks the token, the Feeds model and every document against
//! listings-feed-schema-v2.json, and processes each feed). Prints wall time, items per
//! second and peak RSS of the delta push, next to the first (full) push and a `diff` of
//! the same change.
//!
//! `cargo bench --bench amazon_sp -- [--variants N] [--changed N] [--stores N]`
//! (defaults 1,000,000, 100,000 and 20: the catalog `benches/bench.py` caches in
//! `target/bench-data/`). The feed keeps new EUR items (about a third of the catalog);
//! CHANGED of them get a new title. The usage plans are raised and the polls are short:
//! this measures omnifeed, not Amazon's queue.

// The tests' server, shared: the faults it can inject are not used here.
#[allow(dead_code)]
#[path = "../tests/cli/amazon_sp/server.rs"]
mod server;

mod support {
    use std::path::{Path, PathBuf};

    pub(crate) fn shared(relative: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared")
            .join(relative)
    }
}

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

fn arg(name: &str, default: u64) -> u64 {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(default, |v| v.parse().expect("a number"))
}

/// Runs omnifeed in `dir` with the LWA credentials; returns (wall seconds, peak RSS MiB,
/// exit code).
// The child is reaped by `wait4`, which also gives its own peak RSS (std's `wait` cannot).
#[allow(clippy::zombie_processes)]
fn timed(dir: &Path, args: &[&str]) -> (f64, f64, i32) {
    let started = Instant::now();
    let child = Command::new(env!("CARGO_BIN_EXE_omnifeed"))
        .current_dir(dir)
        .args(args)
        .env("SP_API_CLIENT_ID", server::CLIENT_ID)
        .env("SP_API_CLIENT_SECRET", server::CLIENT_SECRET)
        .env("SP_API_REFRESH_TOKEN", server::REFRESH_TOKEN)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("start omnifeed");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our child, status and usage point to live locals.
    unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (wall, usage.ru_maxrss as f64 / 1024.0, code)
}

fn catalog(variants: u64, stores: u64) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("target/bench-data")
        .join(format!("v{variants}-s{stores}"));
    if !path.join("products.csv").exists() {
        eprintln!(
            "generating {variants} variants, {stores} stores into {} ...",
            path.display()
        );
        let status = Command::new("python3")
            .arg(support::shared("tools/gen_catalog.py"))
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

/// Copies the catalog into `to`, with the title of the first `changed` new EUR rows (the
/// feed's items) changed.
fn copy_catalog(from: &Path, to: &Path, changed: u64) {
    std::fs::create_dir_all(to).expect("catalog dir");
    for name in ["inventory.csv", "locations.csv"] {
        if from.join(name).exists() {
            std::fs::copy(from.join(name), to.join(name)).expect("copy");
        }
    }
    let mut reader = csv::Reader::from_path(from.join("products.csv")).expect("products");
    let header = reader.headers().expect("header").clone();
    let column = |name: &str| header.iter().position(|h| h == name).expect(name);
    let (title, currency, condition) = (column("title"), column("currency"), column("condition"));
    let mut writer = csv::Writer::from_path(to.join("products.csv")).expect("write");
    writer.write_record(&header).expect("header");
    let mut record = csv::StringRecord::new();
    let mut left = changed;
    while reader.read_record(&mut record).expect("row") {
        if left > 0 && &record[currency] == "EUR" && &record[condition] == "new" {
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

/// Messages the server has taken so far, over every feed.
fn processed(server: &server::SpApiServer) -> usize {
    server.state().messages_processed
}

fn main() {
    let variants = arg("--variants", 1_000_000);
    let changed = arg("--changed", 100_000);
    let stores = arg("--stores", 20);
    let source = catalog(variants, stores);
    let server = server::SpApiServer::start();
    server.state().polls_before_done = 1;
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path();
    std::fs::write(dir.join("omnifeed.toml"), "[catalog]\ndir = \"cat\"\n").expect("config");
    std::fs::create_dir_all(dir.join("feeds")).expect("feeds");
    let fast = "{ per_second = 1000, burst = 1000 }";
    std::fs::write(
        dir.join("feeds/amazon.toml"),
        format!(
            "channel = \"amazon-listings\"\nformat = \"json\"\ncurrency = \"EUR\"\n\n\
             [filters]\nconditions = [\"new\"]\n\n\
             [params]\nseller_id = \"A1BENCH\"\nmarketplace_id = \"A1PA6795UKMFR9\"\n\
             language_tag = \"de_DE\"\n\n[fields]\nproductType = \"PRODUCT\"\n\n\
             [destination]\nkind = \"amazon-sp-api\"\nmarketplace_ids = [\"A1PA6795UKMFR9\"]\n\
             endpoint = \"{url}\"\ntoken_url = \"{url}/auth/o2/token\"\npoll_interval_ms = 50\n\
             poll_max_seconds = 1\n\
             rate_limits = {{ create_feed = {fast}, create_feed_document = {fast}, \
             get_feed = {fast}, get_feed_document = {fast} }}\n",
            url = server.url()
        ),
    )
    .expect("feed");
    copy_catalog(&source, &dir.join("cat"), 0);
    println!(
        "catalog: {variants} variants ({stores} stores), delta: {changed} changed titles; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let push = ["push", "--no-progress", "--force"];
    let (wall, rss, code) = timed(dir, &push);
    let sent = processed(&server);
    let feeds = server.state().feeds_created;
    println!(
        "first push (all items)       {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}  ({sent} items, {feeds} feeds)",
        sent as f64 / wall
    );
    copy_catalog(&source, &dir.join("cat"), changed);
    let (diff_wall, diff_rss, _) = timed(dir, &["diff", "--no-progress", "--limit", "0"]);
    println!(
        "diff of the change            {diff_wall:8.2} s  {:>8}          peak RSS {diff_rss:6.0} MiB",
        ""
    );
    let before = processed(&server);
    let feeds_before = server.state().feeds_created;
    let (wall, rss, code) = timed(dir, &push);
    let sent = processed(&server) - before;
    let state = server.state();
    println!(
        "delta push ({sent} items)   {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}  ({} feeds, largest document {:.1} MiB)",
        sent as f64 / wall,
        state.feeds_created - feeds_before,
        state.largest_document as f64 / 1048576.0
    );
}
