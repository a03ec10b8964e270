//! The feed engine: one pass over the catalog feeds every selected feed. Items are
//! transformed and rendered in parallel per batch, then written in catalog order, so the
//! output is byte-identical whatever the thread count.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rayon::prelude::*;
use serde::Serialize;

use crate::config::Config;
use crate::diag::{Finding, Findings};
use crate::diff::{HashInput, LIST_SEPARATOR, stored_value};
use crate::feed::Feed;
use crate::load::{self, CatalogItem, LoadOutcome, Locations, StockTiming};
use crate::report::progress::Progress;
use crate::serialize::output::{FeedOutput, OutputError, Written};
use crate::serialize::{Cells, Renderer};
use crate::transform::{FeedContext, Outcome, Record, Value};
use crate::unique_keys::{KeyedItem, Repeat, UniqueKeys};

/// What happened to the catalog's items in one feed.
#[derive(Debug, Default, Serialize)]
pub struct FeedSummary {
    pub feed: String,
    pub channel: String,
    pub format: String,
    /// Catalog items that passed catalog validation and reached this feed.
    pub items_in: u64,
    /// Items left out by each filter.
    pub filtered: BTreeMap<&'static str, u64>,
    /// Items left out for an error, by rule.
    pub rejected: BTreeMap<&'static str, u64>,
    /// Items written (per-store channels write several records per item).
    pub items_written: u64,
    pub records: u64,
    pub warnings: u64,
    pub files: Vec<std::path::PathBuf>,
    pub bytes: u64,
    /// Sales that start or end after this run and before the next (`diff --next-run`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sale_changes: Vec<crate::transform::sale::SaleChange>,
    /// Why this feed's files could not be put in place; its old files stay as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
}

/// One record as the engine hands it to a [`RecordSink`]: its channel key, a content hash
/// over its field values, and the record itself.
pub struct RecordView<'r, 'a> {
    pub key: String,
    pub hash: u128,
    pub record: &'r Record<'a>,
    /// Which of the item's records this is (per-store channels make one per store).
    pub number: usize,
    /// The catalog item the record was made from, and the feed's context that made it
    /// (its stock allocation, for `check`).
    pub item: &'r CatalogItem<'r>,
    pub context: &'r FeedContext<'r>,
}

/// Why a feed left an item out, as a [`RecordSink`] hears it.
pub enum LeftOut<'f> {
    /// The feed's filter (or the engine's: `currency`, `no_store_stock`) of this name.
    Filtered(&'static str),
    /// An error; the findings say which (the first error decides).
    Rejected(&'f [Finding]),
}

/// Called on the worker threads for every written record, to collect what a command needs
/// (diffs, state). Must be cheap and thread-safe.
pub trait RecordSink: Sync {
    type Item: Send;
    /// Whether `record` should be called; keys and hashes are not computed otherwise.
    fn wants_records(&self) -> bool {
        true
    }
    /// Whether `record` needs [`RecordView::key`] and [`RecordView::hash`]; without, they
    /// are left empty and not computed.
    fn wants_keys(&self) -> bool {
        true
    }
    fn record(&self, feed: usize, view: &RecordView<'_, '_>) -> Self::Item;
    fn collect(&mut self, feed: usize, item: Self::Item);
    /// An item the feed left out; what it returns is collected like a record's item.
    fn left_out(
        &self,
        _feed: usize,
        _item: &CatalogItem<'_>,
        _why: LeftOut<'_>,
    ) -> Option<Self::Item> {
        None
    }
    /// An item dropped from the feed because an earlier item has its key (`finding` says
    /// which); in catalog order, before the chunk's items are collected.
    fn repeated(&mut self, _feed: usize, _finding: &Finding) {}
    /// Every feed's records of the items handed over so far have been collected: an item
    /// seen so far will not be seen again.
    fn items_done(&mut self) {}
}

/// A sink that wants nothing.
pub struct NoRecords;

impl RecordSink for NoRecords {
    type Item = ();
    fn wants_records(&self) -> bool {
        false
    }
    fn record(&self, _: usize, _: &RecordView<'_, '_>) {}
    fn collect(&mut self, _: usize, _: ()) {}
}

pub struct EngineOptions<'o> {
    /// Write files; without it the engine only transforms and checks (diff, preview).
    pub write: bool,
    /// Write into this folder instead of each feed's destination.
    pub out_dir: Option<&'o Path>,
    /// With `out_dir`, each feed writes into its own subfolder of it, named by the feed's
    /// position: a push's staging, where feeds bound for different destinations may share
    /// a file name.
    pub folder_per_feed: bool,
    /// The run's time (`--now`): rules such as `max_days_ahead` count from it.
    pub now: jiff::Timestamp,
    /// When the next run is due: sales changing before it are collected per feed.
    pub next_run: Option<jiff::Timestamp>,
}

impl EngineOptions<'_> {
    /// The folder feed number `index` writes into.
    pub fn feed_dir(&self, index: usize, feed: &Feed) -> std::path::PathBuf {
        match self.out_dir {
            Some(dir) if self.folder_per_feed => dir.join(index.to_string()),
            Some(dir) => dir.to_owned(),
            None => feed.destination.clone(),
        }
    }
}

pub struct EngineResult {
    pub catalog: LoadOutcome,
    pub summaries: Vec<FeedSummary>,
    /// Findings about feed items, as `config.findings` says to keep them.
    pub findings: Findings,
}

/// Items rendered together on one worker: enough to make buffers and write jobs few,
/// few enough that both cores stay busy on a batch.
const CHUNK_ITEMS: usize = 128;

/// One feed's share of a chunk of items: their records' bytes back to back, and the tally.
struct FeedChunk<T> {
    bytes: Vec<u8>,
    /// Where each record ends in `bytes`.
    ends: Vec<usize>,
    /// What the sink made of each record, in record order.
    seen: Vec<T>,
    findings: Vec<Finding>,
    items_in: u64,
    written: u64,
    warnings: u64,
    filtered: Vec<&'static str>,
    rejected: Vec<&'static str>,
    /// Feeds whose keys can repeat: each written item's key, for the merge to check.
    keyed: Vec<KeyedItem>,
}

impl<T> FeedChunk<T> {
    fn new(bytes: Vec<u8>) -> FeedChunk<T> {
        FeedChunk {
            bytes,
            ends: Vec::new(),
            seen: Vec::new(),
            findings: Vec::new(),
            items_in: 0,
            written: 0,
            warnings: 0,
            filtered: Vec::new(),
            rejected: Vec::new(),
            keyed: Vec::new(),
        }
    }

    /// Leaves the repeated items out: their records' bytes, their sink items and their
    /// count as written; each is counted as rejected with its finding instead. One copy of
    /// the kept bytes, however many repeats.
    fn drop_repeats(&mut self, repeats: Vec<Repeat>) {
        if repeats.is_empty() {
            return;
        }
        let mut kept_records = vec![true; self.ends.len()];
        let mut kept_seen = vec![true; self.seen.len()];
        for repeat in &repeats {
            kept_records[repeat.records.clone()].fill(false);
            kept_seen[repeat.seen.clone()].fill(false);
        }
        let mut bytes = Vec::with_capacity(self.bytes.len());
        let mut ends = Vec::with_capacity(self.ends.len());
        let mut start = 0;
        for (&end, kept) in self.ends.iter().zip(kept_records) {
            if kept {
                bytes.extend_from_slice(&self.bytes[start..end]);
                ends.push(bytes.len());
            }
            start = end;
        }
        self.bytes = bytes;
        self.ends = ends;
        let mut kept_seen = kept_seen.into_iter();
        self.seen.retain(|_| kept_seen.next().unwrap_or(true));
        self.written -= repeats.len() as u64;
        for repeat in repeats {
            self.rejected.push(repeat.finding.rule);
            self.findings.push(repeat.finding);
        }
    }
}

pub fn run<S: RecordSink>(
    config: &Config,
    feeds: &[Feed],
    options: &EngineOptions<'_>,
    progress: &Progress,
    sink: &mut S,
) -> anyhow::Result<EngineResult> {
    let catalog_file: Arc<str> = Arc::from(config.products_path().display().to_string());
    let renderers: Vec<Renderer<'_>> = feeds.iter().map(Renderer::new).collect();
    if options.write {
        // Checked at load for the destinations; again here for `--out`. Staged feeds (a
        // push) each write into a folder of their own, so theirs are checked where the files
        // end up: their destinations.
        let out_dir = options.out_dir.filter(|_| !options.folder_per_feed);
        crate::feed::destination::check_targets(config, feeds, out_dir)?;
    }
    let mut outputs: Vec<Option<FeedOutput>> = Vec::with_capacity(feeds.len());
    for (index, (feed, renderer)) in feeds.iter().zip(&renderers).enumerate() {
        outputs.push(if options.write {
            Some(FeedOutput::new(renderer, &options.feed_dir(index, feed))?)
        } else {
            None
        });
    }
    let mut summaries: Vec<FeedSummary> = feeds
        .iter()
        .map(|feed| FeedSummary {
            feed: feed.id.clone(),
            channel: feed.spec.id.clone(),
            format: feed.format.id.clone(),
            ..FeedSummary::default()
        })
        .collect();
    let mut findings = Findings::new(&config.findings)?;
    let mut unique_keys = UniqueKeys::new(feeds);
    let mut contexts: Option<Vec<FeedContext<'_>>> = None;
    let renderers = &renderers;
    let pool = BufferPool::default();
    let pool = &pool;
    let write = options.write;
    // Writing runs on its own thread, so the disk writes of one batch overlap with
    // rendering the next.
    let (catalog, outputs) = std::thread::scope(|scope| -> anyhow::Result<_> {
        let (jobs, queue) = std::sync::mpsc::sync_channel::<Vec<WriteJob>>(2);
        let writer = scope.spawn(move || -> Result<Vec<Option<FeedOutput>>, OutputError> {
            for batch in queue {
                for job in batch {
                    if let Some(output) = &mut outputs[job.feed] {
                        output.write_records(&renderers[job.feed], &job.bytes, &job.ends)?;
                    }
                    pool.give(job.bytes);
                }
            }
            Ok(outputs)
        });
        let catalog = load::load(
            config,
            progress,
            StockTiming::BeforeProducts,
            &mut |items: &[CatalogItem<'_>], locations: &Locations| {
                if contexts.is_none() {
                    // Names the feeds take from the catalog are checked on its first items,
                    // before anything is written.
                    let Some(first) = items.first() else {
                        return Ok(());
                    };
                    crate::feed::names::check_feeds_against_catalog(
                        feeds,
                        first.columns,
                        locations,
                    )?;
                }
                let contexts = contexts.get_or_insert_with(|| {
                    feeds
                        .iter()
                        .map(|feed| {
                            FeedContext::new(
                                feed,
                                locations,
                                Arc::clone(&catalog_file),
                                options.now,
                            )
                            .with_next_run(options.next_run)
                        })
                        .collect()
                });
                let sink_ref = &*sink;
                let chunks: Vec<Vec<FeedChunk<S::Item>>> = items
                    .par_chunks(CHUNK_ITEMS)
                    .map(|chunk| {
                        let mut outs: Vec<FeedChunk<S::Item>> = feeds
                            .iter()
                            .map(|_| FeedChunk::new(if write { pool.take() } else { Vec::new() }))
                            .collect();
                        // Item by item, each through every feed: per-thread caches (the
                        // description's plain text) serve all feeds of an item.
                        for item in chunk {
                            for (index, ((context, renderer), out)) in
                                contexts.iter().zip(renderers).zip(&mut outs).enumerate()
                            {
                                render(index, context, renderer, item, sink_ref, write, out);
                            }
                        }
                        outs
                    })
                    .collect();
                let mut batch = Vec::with_capacity(chunks.len() * feeds.len());
                let mut found = Vec::new();
                for per_feed in chunks {
                    for (index, mut chunk) in per_feed.into_iter().enumerate() {
                        // Chunks arrive in catalog order: the first item with a key keeps it.
                        let keyed = std::mem::take(&mut chunk.keyed);
                        let repeats = unique_keys.repeats(index, keyed);
                        for repeat in &repeats {
                            sink.repeated(index, &repeat.finding);
                        }
                        chunk.drop_repeats(repeats);
                        let summary = &mut summaries[index];
                        summary.items_in += chunk.items_in;
                        summary.items_written += chunk.written;
                        summary.warnings += chunk.warnings;
                        summary.records += chunk.ends.len() as u64;
                        for filter in chunk.filtered {
                            *summary.filtered.entry(filter).or_default() += 1;
                        }
                        for rule in chunk.rejected {
                            *summary.rejected.entry(rule).or_default() += 1;
                        }
                        found.extend(chunk.findings);
                        for item in chunk.seen {
                            sink.collect(index, item);
                        }
                        if chunk.ends.is_empty() {
                            pool.give(chunk.bytes);
                        } else {
                            batch.push(WriteJob {
                                feed: index,
                                bytes: chunk.bytes,
                                ends: chunk.ends,
                            });
                        }
                    }
                    // A chunk's items went through every feed in it.
                    sink.items_done();
                }
                // Chunks list their findings feed by feed; by line (a stable sort) they read
                // item by item again, each item's feeds in order, whatever the chunking.
                found.sort_by_key(|finding| finding.line);
                findings.extend(found);
                if jobs.send(batch).is_err() {
                    // The writer stopped on an error; joining it below reports which.
                    anyhow::bail!("the feed writer stopped");
                }
                Ok(())
            },
        );
        drop(jobs);
        let written = writer.join().map_err(|_| {
            crate::exit::ClassedError::new(
                crate::exit::ErrorClass::Output,
                "the feed writer thread died (panicked); no feed file was replaced",
            )
        })?;
        // A write error explains a stopped load better than the load's own error.
        let outputs = written?;
        Ok((catalog?, outputs))
    })?;
    for (summary, context) in summaries.iter_mut().zip(contexts.iter().flatten()) {
        summary.sale_changes = context.take_sale_changes();
    }
    // Every feed is complete in its temp files by now: one that cannot be put in place (a
    // full disk, a folder in the way) does not keep the others from being committed.
    let mut failures = Vec::new();
    for (summary, output) in summaries.iter_mut().zip(outputs) {
        if let Some(output) = output {
            match output.commit() {
                Ok(Written { files, bytes, .. }) => {
                    summary.files = files;
                    summary.bytes = bytes;
                }
                Err(error) => {
                    summary.failed = Some(with_cause(&error));
                    failures.push(error);
                }
            }
        }
    }
    let result = EngineResult {
        catalog,
        summaries,
        findings,
    };
    if failures.is_empty() {
        return Ok(result);
    }
    let written = result
        .summaries
        .iter()
        .filter(|s| s.failed.is_none() && !s.files.is_empty())
        .map(|s| s.feed.clone())
        .collect();
    Err(IncompleteExport {
        result: Some(Box::new(result)),
        written,
        failures,
    }
    .into())
}

/// Some feeds' files could not be put in place; the others were. A caller that reports per
/// feed takes [`IncompleteExport::result`] out; to every other caller it is an output
/// failure naming the feeds on both sides.
pub struct IncompleteExport {
    pub result: Option<Box<EngineResult>>,
    /// Feeds whose files were put in place.
    pub written: Vec<String>,
    /// The first failure is also this error's source.
    pub failures: Vec<OutputError>,
}

impl std::fmt::Display for IncompleteExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (number, failure) in self.failures.iter().enumerate() {
            if number > 0 {
                f.write_str("; ")?;
            }
            f.write_str(&with_cause(failure))?;
        }
        match self.written.as_slice() {
            [] => f.write_str("; no feed was written"),
            written => write!(f, "; written: {}", written.join(", ")),
        }
    }
}

impl std::error::Error for IncompleteExport {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.failures
            .first()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl std::fmt::Debug for IncompleteExport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IncompleteExport")
            .field("written", &self.written)
            .field("failures", &self.failures)
            .finish_non_exhaustive()
    }
}

/// An output error with the I/O error under it, on one line.
fn with_cause(error: &OutputError) -> String {
    match std::error::Error::source(error) {
        Some(cause) => format!("{error}: {cause}"),
        None => error.to_string(),
    }
}

impl IncompleteExport {
    pub fn class(&self) -> crate::exit::ErrorClass {
        crate::exit::ErrorClass::Output
    }
}

/// Byte buffers that go round between the render workers and the writer thread. A fresh
/// buffer per chunk and feed means gigabytes of new memory over a large run, which the
/// kernel zeroes page by page; reused buffers keep their capacity.
#[derive(Default)]
struct BufferPool(std::sync::Mutex<Vec<Vec<u8>>>);

impl BufferPool {
    /// Enough for a few batches of every feed; beyond that buffers are simply dropped.
    const MAX_POOLED: usize = 1024;

    fn take(&self) -> Vec<u8> {
        self.0
            .lock()
            .ok()
            .and_then(|mut pool| pool.pop())
            .unwrap_or_else(|| Vec::with_capacity(64 * 1024))
    }

    fn give(&self, mut buffer: Vec<u8>) {
        buffer.clear();
        if let Ok(mut pool) = self.0.lock()
            && pool.len() < Self::MAX_POOLED
        {
            pool.push(buffer);
        }
    }
}

/// One feed's rendered records of one item, on their way to the writer thread.
struct WriteJob {
    feed: usize,
    bytes: Vec<u8>,
    ends: Vec<usize>,
}

/// Runs one item through one feed and appends what came of it to the feed's chunk.
fn render<S: RecordSink>(
    index: usize,
    context: &FeedContext<'_>,
    renderer: &Renderer<'_>,
    item: &CatalogItem<'_>,
    sink: &S,
    write: bool,
    out: &mut FeedChunk<S::Item>,
) {
    out.items_in += 1;
    let (records, mut warnings) = match context.transform(item) {
        Outcome::Filtered(filter) => {
            out.filtered.push(filter);
            out.seen
                .extend(sink.left_out(index, item, LeftOut::Filtered(filter)));
            return;
        }
        Outcome::Rejected(findings) => {
            if let Some(first) = findings.iter().find(|f| f.is_error()) {
                out.rejected.push(first.rule);
            }
            out.seen
                .extend(sink.left_out(index, item, LeftOut::Rejected(&findings)));
            out.warnings += findings.iter().filter(|f| !f.is_error()).count() as u64;
            out.findings.extend(findings);
            return;
        }
        Outcome::Written { records, warnings } => (records, warnings),
    };
    let spec = &context.feed.spec;
    let line_limit = context.feed.format.max_line_bytes;
    // Bytes are rendered for files, and for the line limit even in a dry run, so a diff
    // counts the same items an export writes.
    let render_bytes = write || line_limit.is_some();
    let item_start = (out.bytes.len(), out.ends.len(), out.seen.len());
    let mut too_long = None;
    // Per-store records share all but their stores' own cells: those are rendered once
    // per item rather than once per store.
    let shared_cells = (render_bytes && records.len() > 1 && renderer.renders_cells()).then(|| {
        let mut cells = Cells::default();
        renderer.cells(&records.shared, &mut cells);
        cells
    });
    for number in 0..records.len() {
        let start = out.bytes.len();
        match &shared_cells {
            Some(cells) => renderer.record_from_cells(
                cells,
                records.own_fields,
                records.own_values(number),
                &mut out.bytes,
            ),
            None if render_bytes => renderer.record(&records.get(number), &mut out.bytes),
            None => {}
        }
        let length = (out.bytes.len() - start) as u64;
        if line_limit.is_some_and(|limit| length > limit) {
            too_long = Some(length);
        }
        out.ends.push(out.bytes.len());
        if sink.wants_records() {
            let record = records.get(number);
            let keys = sink.wants_keys();
            let view = RecordView {
                key: if keys {
                    record_key(context.feed, &record)
                } else {
                    String::new()
                },
                hash: if keys { record_hash(spec, &record) } else { 0 },
                record: &record,
                number,
                item,
                context,
            };
            out.seen.push(sink.record(index, &view));
        }
    }
    if let (Some(length), Some(limit)) = (too_long, line_limit) {
        out.bytes.truncate(item_start.0);
        out.ends.truncate(item_start.1);
        out.seen.truncate(item_start.2);
        warnings.push(context.finding(
            &crate::rules::FEED_ITEM_TOO_LARGE,
            item,
            &spec.fields[spec.item_key].name,
            format!(
                "the item takes {length} bytes on one line; {} allows {limit}",
                spec.id
            ),
        ));
        out.rejected.push(crate::rules::FEED_ITEM_TOO_LARGE.code);
        out.seen
            .extend(sink.left_out(index, item, LeftOut::Rejected(&warnings)));
        out.warnings += warnings.iter().filter(|f| !f.is_error()).count() as u64;
        out.findings.extend(warnings);
        return;
    }
    if UniqueKeys::checks(context.feed) {
        let key_field = &spec.fields[spec.item_key].name;
        out.keyed.push(KeyedItem::new(
            records.shared.text(spec.item_key).unwrap_or_default(),
            context.finding(
                &crate::rules::FEED_DUPLICATE_KEY,
                item,
                key_field,
                String::new(),
            ),
            item_start.1..out.ends.len(),
            item_start.2..out.seen.len(),
        ));
    }
    out.written += 1;
    out.warnings += warnings.len() as u64;
    out.findings.extend(warnings);
}

/// The key a channel knows a record by: its item key, and for per-store channels the store
/// code before it.
pub fn record_key(feed: &Feed, record: &Record<'_>) -> String {
    let key = record.text(feed.spec.item_key).unwrap_or_default();
    match feed.spec.store_code_field.filter(|_| feed.spec.per_store) {
        Some(store) => format!("{}/{key}", record.text(store).unwrap_or_default()),
        None => key.to_owned(),
    }
}

/// The record's [`crate::diff::content_hash`]: the hash of its [`record_fields`], computed
/// without building them. Field names are visited in the spec's precomputed name order, so
/// reordering a spec's fields changes no hash.
pub fn record_hash(spec: &crate::spec::ChannelSpec, record: &Record<'_>) -> u128 {
    thread_local! {
        // Reused across a worker's records: a million records hash without allocating.
        static INPUT: std::cell::RefCell<HashInput> = std::cell::RefCell::new(HashInput::default());
    }
    INPUT.with_borrow_mut(|input| {
        input.clear();
        for &index in &spec.fields_by_name {
            let name = spec.fields[index].name.as_str();
            match record.values.get(index) {
                Some(Some(Value::Text(text))) => input.push_value(name, text),
                Some(Some(Value::List(items))) => {
                    input.push_list(name, items.iter().map(|item| item.as_ref()));
                }
                Some(Some(Value::Groups(groups))) => {
                    input.push_list(name, groups.iter().map(|group| group.text.as_str()));
                }
                _ => {}
            }
        }
        input.finish()
    })
}

/// The field values the state keeps and a diff shows for a record: name -> value (repeated
/// values joined, long ones shortened to a prefix plus a hash of the whole; see
/// [`stored_value`]).
pub fn record_fields(
    spec: &crate::spec::ChannelSpec,
    record: &Record<'_>,
) -> BTreeMap<String, String> {
    spec.fields
        .iter()
        .zip(&record.values)
        .filter_map(|(field, value)| {
            let value = value.as_ref()?.joined(LIST_SEPARATOR);
            Some((field.name.clone(), stored_value(&value).into_owned()))
        })
        .collect()
}

/// A record's full rendered values by channel field name, each a list (one value for a
/// field that is not repeated): what an item-level channel API is sent. Unlike
/// [`record_fields`], nothing is shortened; empty values are left out.
pub fn record_values(
    spec: &crate::spec::ChannelSpec,
    record: &Record<'_>,
) -> crate::push::ItemValues {
    spec.fields
        .iter()
        .zip(&record.values)
        .filter_map(|(field, value)| {
            let values: Vec<String> = match value.as_ref()? {
                Value::Text(text) => vec![text.to_string()],
                Value::List(items) => items.iter().map(|item| item.to_string()).collect(),
                Value::Groups(groups) => groups.iter().map(|group| group.text.clone()).collect(),
            };
            let values: Vec<String> = values.into_iter().filter(|v| !v.is_empty()).collect();
            (!values.is_empty()).then(|| (field.name.clone(), values))
        })
        .collect()
}
