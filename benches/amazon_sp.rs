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

mod harness;

// The servers' shared listener, runtime and shutdown.
#[path = "../tests/cli/local_server.rs"]
mod local_server;

/// The server reads reference files through the tests' `support::shared`.
mod support {
    pub(crate) use super::harness::shared;
}

use harness::{arg, catalog, copy_catalog, timed};

/// The feed's items: new EUR listings, the ones whose titles the delta changes.
const FEED_ROWS: &[(&str, &str)] = &[("currency", "EUR"), ("condition", "new")];

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
    copy_catalog(&source, &dir.join("cat"), 0, FEED_ROWS);
    println!(
        "catalog: {variants} variants ({stores} stores), delta: {changed} changed titles; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let env = [
        ("SP_API_CLIENT_ID", server::CLIENT_ID),
        ("SP_API_CLIENT_SECRET", server::CLIENT_SECRET),
        ("SP_API_REFRESH_TOKEN", server::REFRESH_TOKEN),
    ];
    let push = ["push", "--no-progress", "--force"];
    let (wall, rss, code) = timed(dir, &push, &env);
    let sent = processed(&server);
    let feeds = server.state().feeds_created;
    println!(
        "first push (all items)       {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}  ({sent} items, {feeds} feeds)",
        sent as f64 / wall
    );
    copy_catalog(&source, &dir.join("cat"), changed, FEED_ROWS);
    let (diff_wall, diff_rss, _) = timed(dir, &["diff", "--no-progress", "--limit", "0"], &env);
    println!(
        "diff of the change            {diff_wall:8.2} s  {:>8}          peak RSS {diff_rss:6.0} MiB",
        ""
    );
    let before = processed(&server);
    let feeds_before = server.state().feeds_created;
    let (wall, rss, code) = timed(dir, &push, &env);
    let sent = processed(&server) - before;
    let state = server.state();
    println!(
        "delta push ({sent} items)   {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}  ({} feeds, largest document {:.1} MiB)",
        sent as f64 / wall,
        state.feeds_created - feeds_before,
        state.largest_document as f64 / 1048576.0
    );
}
