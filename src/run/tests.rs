//! The run engine with an injected transport whose channel answers per item: refusals must
//! never be recorded as acceptances (issue #8 point 7).

use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::*;
use crate::config::Config;
use crate::feed::Feed;
use crate::guards::Overrides;
use crate::push::{Delivery, DirTransport, PushError, Transport};
use crate::report::progress::Progress;
use crate::state::{Outcome, SqliteStore, StateStore};

/// A folder that takes the files, then refuses the listed items, as the Merchant API does.
struct RejectingTransport {
    dir: DirTransport,
    reject: Vec<(String, String)>,
}

impl Transport for RejectingTransport {
    fn target(&self) -> String {
        self.dir.target()
    }

    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError> {
        let mut delivery = self.dir.deliver(feed, files)?;
        delivery.rejected = self.reject.clone();
        Ok(delivery)
    }

    fn holds_feed(&self, feed: &Feed) -> Result<bool, PushError> {
        self.dir.holds_feed(feed)
    }
}

struct Project {
    dir: tempfile::TempDir,
    config: Config,
}

impl Project {
    /// The bundled 300-variant example catalog, one Google feed into `out/`.
    fn new() -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/catalog");
        std::fs::create_dir_all(dir.path().join("cat")).expect("cat");
        for name in ["products.csv", "inventory.csv", "locations.csv"] {
            std::fs::copy(example.join(name), dir.path().join("cat").join(name)).expect(name);
        }
        std::fs::write(
            dir.path().join("omnifeed.toml"),
            "[catalog]\ndir = \"cat\"\n",
        )
        .expect("config");
        std::fs::create_dir_all(dir.path().join("feeds")).expect("feeds");
        std::fs::write(
            dir.path().join("feeds/google.toml"),
            "channel = \"google-merchant\"\nformat = \"xml\"\n\n\
             [destination]\nkind = \"dir\"\npath = \"out\"\n",
        )
        .expect("feed");
        let config = Config::load(&dir.path().join("omnifeed.toml"), true, None).expect("load");
        Project { dir, config }
    }

    fn feeds(&self) -> Vec<Feed> {
        crate::commands::load_feeds(&self.config, &[]).expect("feeds")
    }

    fn push(&self, reject: &[(&str, &str)]) -> PushRun {
        let lock = ProjectLock::acquire(&self.config.state_path, "test").expect("lock");
        let mut store = SqliteStore::open(&self.config.state_path).expect("state");
        let reject: Vec<(String, String)> = reject
            .iter()
            .map(|(key, message)| ((*key).to_owned(), (*message).to_owned()))
            .collect();
        let transports = |feed: &Feed| -> Box<dyn Transport> {
            Box::new(RejectingTransport {
                dir: DirTransport::new(feed.destination.clone()),
                reject: reject.clone(),
            })
        };
        let options = PushOptions {
            now: Timestamp::now(),
            overrides: Overrides {
                force: false,
                allowed: Vec::new(),
            },
            command: "push",
        };
        push(
            &self.config,
            self.feeds(),
            &mut store,
            &lock,
            &options,
            &transports,
            &Progress::new(false),
        )
        .expect("push")
    }

    /// The diff a `diff` would show now.
    fn plan(&self) -> FeedPlan {
        let store = open_existing_store(&self.config).expect("state");
        let options = PlanOptions {
            listing: crate::diff::Listing::All,
            now: Timestamp::now(),
            next_run: None,
        };
        let plan = analyze(
            &self.config,
            &self.feeds(),
            store.as_ref(),
            &Progress::new(false),
            &options,
        )
        .expect("plan");
        plan.feeds.into_iter().next().expect("one feed")
    }

    /// `(verdict, has accepted content)` of an item, read straight from the state (which
    /// keeps no verdict once the last send was accepted).
    fn item(&self, key: &str) -> (String, bool) {
        let conn = rusqlite::Connection::open(&self.config.state_path).expect("state");
        conn.query_row(
            "SELECT COALESCE(verdict, 'accepted'), accepted_hash IS NOT NULL FROM items WHERE feed = 'google' AND key = ?1",
            [key],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .expect("item row")
    }

    /// Sets one product's price in the catalog.
    fn set_price(&self, sku: &str, price: &str) {
        let path = self.dir.path().join("cat/products.csv");
        let mut reader = csv::Reader::from_path(&path).expect("read");
        let header = reader.headers().expect("header").clone();
        let column = header.iter().position(|h| h == "price").expect("price");
        let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
        let mut writer = csv::Writer::from_path(&path).expect("write");
        writer.write_record(&header).expect("header");
        let mut found = false;
        for row in rows {
            if &row[0] == sku {
                found = true;
                let row: csv::StringRecord = row
                    .iter()
                    .enumerate()
                    .map(|(i, v)| if i == column { price } else { v })
                    .collect();
                writer.write_record(&row).expect("row");
            } else {
                writer.write_record(&row).expect("row");
            }
        }
        writer.flush().expect("flush");
        assert!(found, "no product {sku}");
    }
}

#[test]
fn rejected_items_stay_pending_with_their_reason() {
    let project = Project::new();
    let fresh = project.plan();
    let keys: Vec<String> = fresh.diff.added.iter().map(|i| i.key.clone()).collect();
    let total = keys.len() as u64;
    assert!(total > 10, "the example feed has items");
    let (a, b, c, d) = (&keys[0], &keys[1], &keys[2], &keys[3]);

    // First push: two new items refused.
    let first = project.push(&[(a, "invalid GTIN"), (b, "image too small")]);
    assert_eq!(first.outcome, Outcome::Partial);
    let feed = &first.feeds[0];
    assert_eq!(feed.outcome, FeedOutcome::Partial);
    let recorded = feed.recorded.expect("recorded");
    assert_eq!((recorded.accepted, recorded.rejected), (total - 2, 2));
    assert_eq!(feed.channel_rejections.len(), 2);
    assert_eq!(project.item(a), ("invalid GTIN".to_owned(), false));
    assert_eq!(project.item(c), ("accepted".to_owned(), true));
    let pending = project.plan();
    let added: Vec<&str> = pending.diff.added.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(
        added,
        [a.as_str(), b.as_str()],
        "refused items stay pending"
    );
    assert_eq!(pending.diff.totals.unchanged, total - 2);
    let store = open_existing_store(&project.config)
        .expect("state")
        .expect("history");
    let run = store.run(first.run).expect("run").expect("the run");
    assert_eq!(run.summary.outcome, Outcome::Partial);
    let counts = run.feeds[0].counts;
    assert_eq!((counts.accepted, counts.rejected), (total - 2, 2));
    drop(store);

    // Second push: a changed item and an unchanged one refused; the two from before taken.
    assert!(
        pending.diff.added.iter().all(|i| i.key != *c),
        "accepted in the first push"
    );
    project.set_price(c, "1234.50");
    let second = project.push(&[(c, "price mismatch"), (d, "landing page down")]);
    assert_eq!(second.outcome, Outcome::Partial);
    assert_eq!(second.feeds[0].recorded.expect("recorded").rejected, 2);
    assert_eq!(project.item(a), ("accepted".to_owned(), true));
    assert_eq!(project.item(c), ("price mismatch".to_owned(), true));
    assert_eq!(project.item(d), ("landing page down".to_owned(), true));
    let pending = project.plan();
    assert_eq!(pending.diff.totals.added, 0);
    let changed: Vec<&str> = pending
        .diff
        .changed
        .iter()
        .map(|i| i.key.as_str())
        .collect();
    assert_eq!(changed, [c.as_str()], "the refused change stays pending");
    let price = pending.diff.changed[0]
        .field("price")
        .expect("price change");
    assert_ne!(
        price.before.as_deref(),
        Some("1234.50 EUR"),
        "the state keeps the old accepted price"
    );
    assert_eq!(price.after.as_deref(), Some("1234.50 EUR"));

    // Accepted at last: nothing left to do.
    let third = project.push(&[]);
    assert_eq!(third.outcome, Outcome::Ok);
    assert!(third.feeds[0].channel_rejections.is_empty());
    assert_eq!(project.item(c), ("accepted".to_owned(), true));
    assert!(project.plan().diff.is_empty());
}
