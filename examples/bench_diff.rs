//! Times recording and diffing N items (default 1,000,000) with 1 % changed, and prints peak
//! RSS. Run with `cargo run --release --example bench_diff -- 1000000`.

use std::collections::BTreeMap;
use std::time::Instant;

use jiff::Timestamp;
use omnifeed::diff::{DiffBuilder, Ranking, content_hash};
use omnifeed::spec::{RoleField, Roles};
use omnifeed::state::{PushedItem, SqliteStore, StateStore, Verdict};

fn fields(i: usize, price_bump: bool) -> BTreeMap<String, String> {
    let cents = if price_bump { 4_999 } else { 1_999 + i % 500 };
    BTreeMap::from([
        ("availability".to_owned(), "in_stock".to_owned()),
        ("brand".to_owned(), "Acme".to_owned()),
        ("link".to_owned(), format!("https://shop.example/p/{i}")),
        (
            "price".to_owned(),
            format!("{}.{:02} EUR", cents / 100, cents % 100),
        ),
        ("title".to_owned(), format!("Acme shirt, size {}", i % 7)),
    ])
}

fn peak_rss_mib() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn main() -> anyhow::Result<()> {
    let n: usize = match std::env::args().nth(1) {
        Some(arg) => arg.parse()?,
        None => 1_000_000,
    };
    let dir = tempfile::tempdir()?;
    let mut store = SqliteStore::open(&dir.path().join("state.db"))?;

    let start = Instant::now();
    let run = store.begin_run("bench", &["feed"], None, Timestamp::now())?;
    let items = (0..n).map(|i| {
        let f = fields(i, false);
        Ok::<_, std::io::Error>(PushedItem {
            key: format!("SKU-{i:08}"),
            hash: content_hash(&f),
            fields: Some(f),
            verdict: Verdict::Accepted,
        })
    });
    store.record_push("feed", run, items, &[], Timestamp::now())?;
    let record = start.elapsed();
    println!(
        "record {n} items: {:.2} s (peak RSS so far {})",
        record.as_secs_f64(),
        peak_rss_mib()
    );

    let start = Instant::now();
    let accepted = store.accepted_hashes("feed")?;
    let load = start.elapsed();
    let mut builder = DiffBuilder::new(accepted);
    for i in 0..n {
        // The caller hashes each serialized item; the field map is rebuilt only when asked.
        let changed = i % 100 == 0;
        let f = fields(i, changed);
        builder.push_with(&format!("SKU-{i:08}"), content_hash(&f), || f)?;
    }
    // Rank through the roles of the fields made above, as a Google push does.
    let roles = Roles {
        price: Some(RoleField::new("price", &[])),
        availability: Some(RoleField::new("availability", &[])),
        price_carries_currency: true,
        ..Roles::default()
    };
    let diff = builder.finish(
        &mut |keys| Ok::<_, anyhow::Error>(store.accepted_fields("feed", keys)?),
        &Ranking::new(&roles),
    )?;
    let total = start.elapsed();
    println!(
        "diff {n} items: {:.2} s (loading hashes {:.2} s); changed {}, unchanged {}",
        total.as_secs_f64(),
        load.as_secs_f64(),
        diff.totals.changed,
        diff.totals.unchanged
    );
    println!("peak RSS (VmHWM): {}", peak_rss_mib());
    Ok(())
}
