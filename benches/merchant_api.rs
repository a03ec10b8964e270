//! Item-level push benchmark (issue #11): a delta push of CHANGED changed items of a
//! VARIANTS-variant catalog to the local Merchant API of the tests (the same server: it
//! checks tokens and every body against Google's discovery document), with the
//! destination's default concurrency. Prints wall time, items per second and peak RSS of
//! the delta push, next to the first (full) push and a `diff` of the same change; and for
//! each push the rate of sending alone (the server's first to last API call), since the
//! push's wall time also holds the diff pass over the whole catalog.
//!
//! `cargo bench --bench merchant_api -- [--variants N] [--changed N] [--stores N]
//! [--channel google|meta]` (defaults 1,000,000, 100,000, 2 and google). Catalogs are cached
//! in `target/bench-data/`. The server's rate is unlimited here (`requests_per_second`
//! raised): this measures omnifeed, not the channel's quota. `--channel meta` pushes the
//! Meta catalog feed to the tests' local Graph API instead (token and appsecret_proof
//! checked, every request validated, each handle polled once before it finishes).

// The tests' server, shared: the faults it can inject are not used here.
#[allow(dead_code)]
#[path = "../tests/cli/merchant_api/server.rs"]
mod server;

#[allow(dead_code)]
#[path = "../tests/cli/meta_api/server.rs"]
mod meta_server;

mod harness;

// The servers' shared listener, runtime and shutdown.
#[path = "../tests/cli/local_server.rs"]
mod local_server;

/// The servers read reference files through the tests' `support::shared`.
mod support {
    pub(crate) use super::harness::shared;
}

use std::path::Path;

use harness::{arg, catalog, copy_catalog, timed};

const CLIENT_EMAIL: &str = "omnifeed-bench@test-project.iam.gserviceaccount.com";

/// Google or Meta, from `--channel`.
fn meta_channel() -> bool {
    let args: Vec<String> = std::env::args().collect();
    match args
        .iter()
        .position(|a| a == "--channel")
        .and_then(|i| args.get(i + 1))
        .map(String::as_str)
    {
        None | Some("google") => false,
        Some("meta") => true,
        Some(other) => panic!("--channel {other}: google or meta"),
    }
}

fn main() {
    let variants = arg("--variants", 1_000_000);
    let changed = arg("--changed", 100_000);
    let stores = arg("--stores", 2);
    let source = catalog(variants, stores);
    if meta_channel() {
        meta(&source, variants, changed, stores);
        return;
    }
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("RSA key");
    let server = server::MerchantServer::start(&key.public_key_pem(), CLIENT_EMAIL);
    server.state().keep_bodies = false;
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path();
    std::fs::write(dir.join("omnifeed.toml"), "[catalog]\ndir = \"cat\"\n").expect("config");
    let key_file = serde_json::json!({
        "type": "service_account",
        "private_key_id": "bench",
        "private_key": key.serialize_pem(),
        "client_email": CLIENT_EMAIL,
        "token_uri": format!("{}/token", server.url()),
    });
    std::fs::write(dir.join("key.json"), key_file.to_string()).expect("key");
    std::fs::create_dir_all(dir.join("feeds")).expect("feeds");
    std::fs::write(
        dir.join("feeds/google.toml"),
        format!(
            "channel = \"google-merchant\"\nformat = \"xml\"\ncountry = \"DE\"\nlanguage = \"de\"\n\n\
             [destination]\nkind = \"google-merchant-api\"\naccount = \"123456\"\n\
             data_source = \"777\"\ncredentials_file = \"key.json\"\nendpoint = \"{}\"\n\
             requests_per_second = 1000000\n",
            server.url()
        ),
    )
    .expect("feed");
    copy_catalog(&source, &dir.join("cat"), 0, &[]);
    println!(
        "catalog: {variants} variants ({stores} stores), delta: {changed} changed titles; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let push = ["push", "--no-progress", "--force"];
    let env = [];
    let (wall, rss, code) = timed(dir, &push, &env);
    let sent = server.state().applied.len();
    let sending = server
        .state()
        .api_calls_between
        .map_or(0.0, |(first, last)| (last - first).as_secs_f64());
    println!(
        "first push (all items)       {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}",
        sent as f64 / wall
    );
    println!(
        "  of which sending           {sending:8.2} s  {:8.0} items/s  (first to last API call at the server)",
        sent as f64 / sending.max(f64::EPSILON)
    );
    copy_catalog(&source, &dir.join("cat"), changed, &[]);
    let (diff_wall, diff_rss, _) = timed(dir, &["diff", "--no-progress", "--limit", "0"], &env);
    println!(
        "diff of the change            {diff_wall:8.2} s  {:>8}          peak RSS {diff_rss:6.0} MiB",
        ""
    );
    server.state().applied.clear();
    server.state().api_calls_between = None;
    let (wall, rss, code) = timed(dir, &push, &env);
    let (sent, sending) = {
        let state = server.state();
        let sending = state
            .api_calls_between
            .map_or(0.0, |(first, last)| (last - first).as_secs_f64());
        (state.applied.len(), sending)
    };
    println!(
        "delta push ({sent} items)   {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}  ({:+.0} MiB over the diff)",
        sent as f64 / wall,
        rss - diff_rss
    );
    // The push's wall time includes the diff pass over the whole catalog; the span from
    // the first to the last API call at the server is the sending alone.
    println!(
        "  of which sending           {sending:8.2} s  {:8.0} items/s  (first to last API call at the server)",
        sent as f64 / sending.max(f64::EPSILON)
    );
}

const META_TOKEN: &str = "EAAbench-token";
const META_APP_SECRET: &str = "bench-app-secret";

/// The same measurement against the local Graph API, with the token and app secret in the
/// environment as a user sets them.
fn meta(source: &Path, variants: u64, changed: u64, stores: u64) {
    let server = meta_server::GraphServer::start(META_TOKEN, Some(META_APP_SECRET));
    {
        let mut state = server.state();
        state.keep_fields = false;
        state.in_progress_polls = 1;
    }
    let project = tempfile::tempdir().expect("temp dir");
    let dir = project.path();
    std::fs::write(dir.join("omnifeed.toml"), "[catalog]\ndir = \"cat\"\n").expect("config");
    std::fs::create_dir_all(dir.join("feeds")).expect("feeds");
    std::fs::write(
        dir.join("feeds/meta.toml"),
        format!(
            "channel = \"meta-catalog\"\nformat = \"csv\"\n\n[destination]\n\
             kind = \"meta-catalog-api\"\ncatalog_id = \"{}\"\nendpoint = \"{}\"\n\
             requests_per_minute = 1000000\npoll_interval_ms = 50\n",
            meta_server::CATALOG,
            server.url()
        ),
    )
    .expect("feed");
    let env = [
        ("META_ACCESS_TOKEN", META_TOKEN),
        ("META_APP_SECRET", META_APP_SECRET),
    ];
    copy_catalog(source, &dir.join("cat"), 0, &[]);
    println!(
        "Meta catalog: {variants} variants ({stores} stores), delta: {changed} changed titles; {} cores",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let push = ["push", "--no-progress", "--force"];
    let (wall, rss, code) = timed(dir, &push, &env);
    let sent = server.state().applied.len();
    println!(
        "first push (all items)       {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}",
        sent as f64 / wall
    );
    copy_catalog(source, &dir.join("cat"), changed, &[]);
    let (diff_wall, diff_rss, _) = timed(dir, &["diff", "--no-progress", "--limit", "0"], &env);
    println!(
        "diff of the change            {diff_wall:8.2} s  {:>8}          peak RSS {diff_rss:6.0} MiB",
        ""
    );
    server.state().applied.clear();
    let (wall, rss, code) = timed(dir, &push, &env);
    let (sent, calls) = {
        let state = server.state();
        (state.applied.len(), state.calls)
    };
    println!(
        "delta push ({sent} items)   {wall:8.2} s  {:8.0} items/s  peak RSS {rss:6.0} MiB  exit {code}  ({:+.0} MiB over the diff; {calls} items_batch calls in both pushes)",
        sent as f64 / wall,
        rss - diff_rss
    );
}
