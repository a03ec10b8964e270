//! `omnifeed check`: do the feeds tell every shopper the same thing? One pass of the export
//! engine (nothing written, no state, no network) runs each catalog item through every
//! feed; for each SKU and country the feeds' transformed items are compared: presence (and
//! why a feed leaves one out), currency, price and sale price (up to each feed's declared
//! `price_adjust`), sale state, and each feed's availability against its own stock
//! allocation. Prices and stock are read through the specs' roles, never by field name.
//!
//! Memory stays flat: items are compared as soon as every feed has seen them (one engine
//! chunk at a time), and what differs is written to a temporary file, not kept.

mod compare;
mod observe;
pub mod report;

use std::fs::File;
use std::io::{BufWriter, Seek, Write};

use crate::config::Config;
use crate::diag::Finding;
use crate::export::{self, EngineOptions, EngineResult, LeftOut, RecordSink, RecordView};
use crate::feed::Feed;
use crate::load::CatalogItem;
use crate::report::progress::Progress;

use compare::{Market, Outcome};
use observe::{FeedRoles, Seen, What};
pub use report::{Mismatch, Reason, SkuReport};

/// Counts over the whole run, whatever is printed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Tally {
    /// Catalog items (lines) at least one feed sends.
    pub checked: u64,
    /// SKU and country pairs with at least one mismatch.
    pub skus_with_mismatches: u64,
    /// Mismatches by kind (`price`, `missing`, …).
    pub mismatches: std::collections::BTreeMap<&'static str, u64>,
    /// With `allow_filtered`: (item, feed) pairs where the feed left the item out by one of
    /// its `[filters]` while another feed of the market sends it; not compared.
    #[serde(skip_serializing_if = "is_zero")]
    pub filtered_allowed: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// What a check keeps and how strict it is.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// Reports kept in memory for printing.
    pub keep: usize,
    /// Every report goes to a temporary file for [`CheckResult::write_all`].
    pub list_all: bool,
    /// A feed that leaves an item out by one of its `[filters]` is left out of that item's
    /// comparison: the feed declared it does not carry such items.
    pub allow_filtered: bool,
}

pub struct CheckResult {
    pub engine: EngineResult,
    pub tally: Tally,
    /// The first reports, in catalog order, as many as asked for.
    pub first: Vec<SkuReport>,
    /// With `list_all`: every report, one JSON object per line, in catalog order.
    all: Option<File>,
}

impl CheckResult {
    /// Copies every report to `out` as JSON values separated by `separator`.
    pub fn write_all(&mut self, out: &mut impl Write, separator: &str) -> std::io::Result<()> {
        use std::io::BufRead;
        let Some(all) = &mut self.all else {
            return Ok(());
        };
        all.rewind()?;
        let reader = std::io::BufReader::new(&*all);
        for (number, line) in reader.lines().enumerate() {
            if number > 0 {
                out.write_all(separator.as_bytes())?;
            }
            out.write_all(line?.as_bytes())?;
        }
        Ok(())
    }
}

/// Runs the check over `feeds` (see [`CheckOptions`]).
pub fn run(
    config: &Config,
    feeds: &[Feed],
    now: jiff::Timestamp,
    options: CheckOptions,
    progress: &Progress,
) -> anyhow::Result<CheckResult> {
    let CheckOptions {
        keep,
        list_all,
        allow_filtered,
    } = options;
    let spill = if list_all {
        Some(tempfile::tempfile().map_err(|err| {
            crate::exit::ClassedError::new(
                crate::exit::ErrorClass::Output,
                format!("cannot create a temporary file for the check's report: {err}\n  hint: set TMPDIR to a writable folder"),
            )
        })?)
    } else {
        None
    };
    let out = match &spill {
        Some(file) => Some(BufWriter::new(file.try_clone()?)),
        None => None,
    };
    let mut sink = CheckSink {
        feeds,
        roles: feeds.iter().map(FeedRoles::new).collect(),
        markets: compare::markets(feeds),
        pending: Vec::new(),
        out,
        failed: None,
        keep,
        allow_filtered,
        first: Vec::new(),
        tally: Tally::default(),
    };
    let options = EngineOptions {
        write: false,
        out_dir: None,
        folder_per_feed: false,
        now,
        // Future sale changes belong to `diff`; a check compares what is sent now.
        next_run: None,
    };
    let engine = export::run(config, feeds, &options, progress, &mut sink)?;
    // The last chunk's items are complete too.
    sink.items_done();
    let written = match sink.failed.take() {
        Some(err) => Err(err),
        None => sink.out.as_mut().map_or(Ok(()), Write::flush),
    };
    written.map_err(|err| {
        crate::exit::ClassedError::new(
            crate::exit::ErrorClass::Output,
            format!("cannot write the check's report to a temporary file: {err}\n  hint: free disk space or set TMPDIR"),
        )
    })?;
    Ok(CheckResult {
        engine,
        tally: sink.tally,
        first: sink.first,
        all: spill,
    })
}

/// Collects what every feed made of each item and compares an item once all feeds have
/// seen it.
struct CheckSink<'f> {
    feeds: &'f [Feed],
    roles: Vec<FeedRoles>,
    markets: Vec<Market>,
    /// The current chunk's observations, by feed.
    pending: Vec<(usize, Seen)>,
    out: Option<BufWriter<File>>,
    /// The first write error; the run reports it at the end.
    failed: Option<std::io::Error>,
    keep: usize,
    allow_filtered: bool,
    first: Vec<SkuReport>,
    tally: Tally,
}

impl RecordSink for CheckSink<'_> {
    type Item = Seen;

    fn wants_keys(&self) -> bool {
        false
    }

    fn record(&self, feed: usize, view: &RecordView<'_, '_>) -> Seen {
        let variant = view.item.variant;
        if view.number > 0 {
            // A per-store feed's further stores: the first record stands for the item.
            return Seen {
                line: variant.line,
                sku: Box::default(),
                what: What::Elsewhere,
            };
        }
        Seen {
            line: variant.line,
            sku: variant.sku.into(),
            what: What::Sent(self.roles[feed].offer(view.context, view.item, view.record)),
        }
    }

    fn left_out(&self, feed: usize, item: &CatalogItem<'_>, why: LeftOut<'_>) -> Option<Seen> {
        Some(Seen {
            line: item.variant.line,
            sku: item.variant.sku.into(),
            what: observe::left_out(&self.feeds[feed], item, why),
        })
    }

    fn repeated(&mut self, feed: usize, finding: &Finding) {
        self.pending.push((
            feed,
            Seen {
                line: finding.line.unwrap_or_default(),
                sku: finding.sku.as_deref().unwrap_or_default().into(),
                what: What::LeftOut(observe::rejected(std::slice::from_ref(finding))),
            },
        ));
    }

    fn collect(&mut self, feed: usize, seen: Seen) {
        self.pending.push((feed, seen));
    }

    fn items_done(&mut self) {
        let mut pending = std::mem::take(&mut self.pending);
        // Stable: a feed's observations of one item keep their order (its first store first).
        pending.sort_by_key(|(feed, seen)| (seen.line, *feed));
        let mut rest = pending.as_slice();
        while let Some((_, first)) = rest.first() {
            let line = first.line;
            let end = rest
                .iter()
                .position(|(_, seen)| seen.line != line)
                .unwrap_or(rest.len());
            let (item, tail) = rest.split_at(end);
            rest = tail;
            self.compare_item(line, item);
        }
        pending.clear();
        // Keeps the buffer's capacity for the next chunk.
        self.pending = pending;
    }
}

impl CheckSink<'_> {
    fn compare_item(&mut self, line: u64, observed: &[(usize, Seen)]) {
        let sku = observed
            .iter()
            .map(|(_, seen)| &*seen.sku)
            .find(|sku| !sku.is_empty())
            .unwrap_or_default();
        let mut outcomes: Vec<Outcome> = self.feeds.iter().map(|_| Outcome::Unseen).collect();
        for (feed, seen) in observed {
            let what = match &seen.what {
                What::Sent(offer) => What::Sent(offer.clone()),
                What::LeftOut(reason) => What::LeftOut(reason.clone()),
                What::Elsewhere => What::Elsewhere,
            };
            outcomes[*feed].add(what);
        }
        // Feeds that left the item out by one of their `[filters]`, when that is allowed:
        // not compared. They are counted where another feed of the market sends it (where
        // none does, nothing could differ).
        let mut filtered = vec![false; outcomes.len()];
        if self.allow_filtered {
            for (outcome, filtered) in outcomes.iter_mut().zip(&mut filtered) {
                if matches!(outcome, Outcome::LeftOut(Reason::Filtered { .. })) {
                    *outcome = Outcome::Unseen;
                    *filtered = true;
                }
            }
        }
        if outcomes.iter().any(|o| matches!(o, Outcome::Sent(_))) {
            self.tally.checked += 1;
        }
        for market in &self.markets {
            if market
                .feeds
                .iter()
                .any(|&feed| matches!(outcomes[feed], Outcome::Sent(_)))
            {
                self.tally.filtered_allowed +=
                    market.feeds.iter().filter(|&&feed| filtered[feed]).count() as u64;
            }
            let Some(report) = compare::compare(self.feeds, market, sku, line, &outcomes) else {
                continue;
            };
            self.tally.skus_with_mismatches += 1;
            for mismatch in &report.mismatches {
                *self.tally.mismatches.entry(mismatch.kind()).or_default() += 1;
            }
            if let Some(out) = &mut self.out
                && self.failed.is_none()
            {
                let written = serde_json::to_writer(&mut *out, &report)
                    .map_err(std::io::Error::from)
                    .and_then(|()| out.write_all(b"\n"));
                if let Err(err) = written {
                    self.failed = Some(err);
                }
            }
            if self.first.len() < self.keep {
                self.first.push(report);
            }
        }
    }
}
