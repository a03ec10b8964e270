//! The analysis `diff` and `push` share: one engine pass that diffs every feed against what
//! its channel last accepted, counts the items due for an expiry refresh, and evaluates the
//! guards.
//!
//! Speed and memory for a million items come from `DiffSink`: on the worker threads it
//! compares each record's hash with the accepted hash (the compact accepted set is shared
//! read-only) and builds the field map only for new or changed records.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use anyhow::Context as _;
use jiff::{SignedDuration, Timestamp};

use super::diff_sink::DiffSink;
use super::stage::{StageSink, StagedFeed};
use crate::config::Config;
use crate::diff::{
    Accepted, AcceptedBuilder, DiffBuilder, DiffError, Duplicate, FeedDiff, IndexSet, Listing,
    Ranking,
};
use crate::exit::{ClassedError, ErrorClass};
use crate::export::{self, EngineOptions, EngineResult, RecordSink};
use crate::feed::Feed;
use crate::guards::{self, GuardContext, GuardTrip};
use crate::load::keys::{KeyMap, sku_key};
use crate::report::progress::Progress;
use crate::state::{SqliteStore, StateStore};

/// Items are refreshed this long before the channel would expire them, so a push that runs
/// a day or two late still beats the deadline.
pub const REFRESH_MARGIN_DAYS: u32 = 3;

/// One feed's analysis.
pub struct FeedPlan {
    /// The whole diff, before any display filter.
    pub diff: FeedDiff,
    /// Unchanged items that a push re-sends because their acceptance is about to expire.
    pub refreshed: u64,
    /// Accepted items older than the refresh window (some may be changed or removed), by
    /// their index in `accepted`.
    pub stale: IndexSet,
    /// Every guard the diff trips; overrides are applied by the caller.
    pub trips: Vec<GuardTrip>,
    /// The accepted items the diff was built against.
    pub accepted: Arc<Accepted>,
}

/// Every feed's analysis, in feed order, and the engine pass that made it.
pub struct Plan {
    pub feeds: Vec<FeedPlan>,
    pub engine: EngineResult,
    pub catalog_time: Option<Timestamp>,
}

/// What [`analyze`] computes beyond the counts.
pub struct PlanOptions {
    /// Which added and removed items the diff lists with their fields: those `diff` shows;
    /// none for `push`, which needs only their keys (on a first push of a big catalog the
    /// fields would be most of the memory).
    pub listing: Listing,
    pub now: Timestamp,
    /// When the next run is due (`diff`): sales changing before it are listed.
    pub next_run: Option<Timestamp>,
}

/// The products file's modification time stands for the catalog's time.
pub fn catalog_time(config: &Config) -> Option<Timestamp> {
    let modified = std::fs::metadata(config.products_path())
        .ok()?
        .modified()
        .ok()?;
    Timestamp::try_from(modified).ok()
}

/// `refresh_days - margin` before `now`, for specs whose channel expires items.
pub fn refresh_cutoff(feed: &Feed, now: Timestamp) -> Option<Timestamp> {
    let days = feed.spec.refresh_days?.saturating_sub(REFRESH_MARGIN_DAYS);
    now.checked_sub(SignedDuration::from_hours(i64::from(days) * 24))
        .ok()
}

/// Opens the state store read-only, as one snapshot, only if it holds any history: a dry run
/// never creates, migrates or waits for it (a push holding the write lock does not block it).
pub fn open_existing_store(config: &Config) -> anyhow::Result<Option<SqliteStore>> {
    Ok(SqliteStore::open_read_only(&config.state_path)?)
}

/// Diffs every feed against `store` (none: nothing accepted yet) and evaluates the guards.
pub fn analyze(
    config: &Config,
    feeds: &[Feed],
    store: Option<&SqliteStore>,
    progress: &Progress,
    options: &PlanOptions,
) -> anyhow::Result<Plan> {
    Ok(analyze_with(config, feeds, store, progress, options, None)?.0)
}

/// [`analyze`], and in the same engine pass every feed's files written into `staging` with
/// the records the state must learn spilled (see [`super::stage`]).
pub fn analyze_and_stage(
    config: &Config,
    feeds: &[Feed],
    store: Option<&SqliteStore>,
    progress: &Progress,
    options: &PlanOptions,
    staging: &Path,
) -> anyhow::Result<(Plan, Vec<StagedFeed>)> {
    let (plan, staged) = analyze_with(config, feeds, store, progress, options, Some(staging))?;
    Ok((plan, staged.unwrap_or_default()))
}

/// Where a diff spills its changed items' fields: beside the state store, whose existence
/// is what makes an item changed.
fn spill_dir(config: &Config) -> Option<PathBuf> {
    let dir = super::stage::staging_parent(config);
    dir.is_dir().then_some(dir)
}

/// Per feed, the accepted items and the stale ones among them.
type Loaded = Vec<(Arc<Accepted>, IndexSet)>;

fn analyze_with(
    config: &Config,
    feeds: &[Feed],
    store: Option<&SqliteStore>,
    progress: &Progress,
    options: &PlanOptions,
    staging: Option<&Path>,
) -> anyhow::Result<(Plan, Option<Vec<StagedFeed>>)> {
    let ready = OnceLock::new();
    let stale_ready = OnceLock::new();
    let diff_sink = DiffSink::new(feeds, &ready, options.listing.clone(), spill_dir(config));
    let inputs = EngineInputs {
        config,
        feeds,
        store,
        now: options.now,
        options: EngineOptions {
            write: staging.is_some(),
            out_dir: staging,
            // Feeds bound for different destinations may share a file name.
            folder_per_feed: true,
            now: options.now,
            next_run: options.next_run,
        },
        progress,
    };
    // Set even after an error, so the workers never wait forever; the pass is then thrown
    // away.
    let set_ready = |loaded: &anyhow::Result<Loaded>| {
        let _ = ready.set(match loaded {
            Ok(loaded) => loaded.iter().map(|(a, _)| Arc::clone(a)).collect(),
            Err(_) => feeds.iter().map(|_| Arc::default()).collect(),
        });
        let _ = stale_ready.set(match loaded {
            Ok(loaded) => loaded.iter().map(|(_, stale)| stale.clone()).collect(),
            Err(_) => feeds.iter().map(|_| Default::default()).collect(),
        });
    };
    let (engine, loaded, sink, staged) = match staging {
        None => {
            let mut sink = diff_sink;
            let (engine, loaded) = run_engine(&inputs, &mut sink, set_ready)?;
            (engine, loaded, sink, None)
        }
        Some(dir) => {
            let mut sink = StageSink::new(diff_sink, feeds, &stale_ready, dir)?;
            let (engine, loaded) = run_engine(&inputs, &mut sink, set_ready)?;
            let (sink, staged) = sink.finish(&engine.summaries)?;
            (engine, loaded, sink, Some(staged))
        }
    };
    let catalog_time = catalog_time(config);
    let mut plans = Vec::with_capacity(feeds.len());
    let (builders, duplicates) = sink.finish();
    for (((feed, mut builder), duplicate), (accepted, stale)) in
        feeds.iter().zip(builders).zip(duplicates).zip(loaded)
    {
        if let Some(duplicate) = duplicate {
            let key = match duplicate {
                Duplicate::Key(key) => key,
                Duplicate::Accepted(index) => {
                    if let Some(store) = store {
                        name_accepted(store, &feed.id, &mut builder, &[index])?;
                    }
                    match builder.key_of(index) {
                        Some(key) => key.to_owned(),
                        // Deleted from the state meanwhile: the key hash is all there is.
                        None => format!("{:032x}", accepted.key_hash(index).unwrap_or_default()),
                    }
                }
            };
            return Err(DiffError::DuplicateKey(key))
                .with_context(|| format!("feed `{}`", feed.id));
        }
        if let Some(store) = store {
            let unnamed = builder.unnamed_removed();
            name_accepted(store, &feed.id, &mut builder, &unnamed)?;
        }
        let diff = builder
            .finish(
                &mut |keys| match store {
                    Some(store) => Ok(store.accepted_fields(&feed.id, keys)?),
                    None => Ok(HashMap::new()),
                },
                &Ranking::new(&feed.spec.roles),
            )
            .map_err(|err: anyhow::Error| err.context(format!("feed `{}`", feed.id)))?;
        let not_refreshed = diff
            .changed
            .iter()
            .chain(&diff.removed)
            .filter_map(|item| accepted.get(&item.key))
            .filter(|found| stale.contains(found.index))
            .count();
        let refreshed = stale.len().saturating_sub(not_refreshed) as u64;
        let last_pushed = match store {
            Some(store) => store.last_catalog_time(&feed.id)?,
            None => None,
        };
        let context = GuardContext {
            roles: &feed.spec.roles,
            catalog_modified_at: catalog_time,
            last_pushed_catalog_at: last_pushed,
        };
        let trips = guards::evaluate(&diff, &feed.guards, &context);
        plans.push(FeedPlan {
            diff,
            refreshed,
            stale,
            trips,
            accepted,
        });
    }
    let plan = Plan {
        feeds: plans,
        engine,
        catalog_time,
    };
    Ok((plan, staged))
}

/// What an engine pass reads, whichever sink it feeds.
struct EngineInputs<'a> {
    config: &'a Config,
    feeds: &'a [Feed],
    store: Option<&'a SqliteStore>,
    now: Timestamp,
    options: EngineOptions<'a>,
    progress: &'a Progress,
}

/// One engine pass feeding `sink`. The engine reads the inventory first, which needs
/// nothing from the state: reading the accepted hashes meanwhile, on this thread, takes
/// them off the wall time. The workers wait for them (`set_ready`) at the first product
/// batch.
fn run_engine<S: RecordSink + Send>(
    inputs: &EngineInputs<'_>,
    sink: &mut S,
    set_ready: impl FnOnce(&anyhow::Result<Loaded>),
) -> anyhow::Result<(EngineResult, Loaded)> {
    let EngineInputs {
        config,
        feeds,
        store,
        now,
        ref options,
        progress,
    } = *inputs;
    let (engine, loaded) = beside_engine(
        || export::run(config, feeds, options, progress, sink),
        || load_accepted(feeds, store, now),
        set_ready,
    );
    let loaded = loaded?;
    let engine = engine.map_err(|_| {
        ClassedError::new(ErrorClass::Output, "the feed engine thread died (panicked)")
    })??;
    Ok((engine, loaded))
}

/// Runs `engine` on a scoped thread while `load` reads the state on this one, then hands
/// what `load` returned to `set_ready`, which releases the engine's workers. That happens
/// whatever `load` does: an error, or a panic, which becomes an error. Before, a panic here
/// left the scope waiting forever for workers that waited for the state.
fn beside_engine<E: Send, L>(
    engine: impl FnOnce() -> E + Send,
    load: impl FnOnce() -> anyhow::Result<L>,
    set_ready: impl FnOnce(&anyhow::Result<L>),
) -> (std::thread::Result<E>, anyhow::Result<L>) {
    std::thread::scope(|scope| {
        let engine = scope.spawn(engine);
        let loaded =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(load)).unwrap_or_else(|_| {
                Err(ClassedError::new(
                    ErrorClass::Output,
                    "reading the accepted items from the state store failed: omnifeed panicked \
                     (a bug; please report it with the message above)",
                )
                .into())
            });
        set_ready(&loaded);
        (engine.join(), loaded)
    })
}

/// Per feed, the accepted items and the stale ones among them.
fn load_accepted(
    feeds: &[Feed],
    store: Option<&SqliteStore>,
    now: Timestamp,
) -> anyhow::Result<Loaded> {
    let mut loaded = Vec::with_capacity(feeds.len());
    for feed in feeds {
        let Some(store) = store else {
            loaded.push((Arc::default(), IndexSet::default()));
            continue;
        };
        let mut builder = AcceptedBuilder::default();
        store.for_each_accepted(&feed.id, &mut |key, hash| builder.push(key, hash))?;
        let accepted = builder.finish();
        let mut stale = IndexSet::new(&accepted);
        if let Some(cutoff) = refresh_cutoff(feed, now) {
            for key in store.stale_items(&feed.id, cutoff)? {
                if let Some(found) = accepted.get(&key) {
                    stale.insert(found.index);
                }
            }
        }
        loaded.push((Arc::new(accepted), stale));
    }
    Ok(loaded)
}

/// Looks up the keys of the accepted items at `indices` in one pass over the state: the
/// accepted set keeps only key hashes, and only removed items (and a duplicate) need a name.
fn name_accepted(
    store: &SqliteStore,
    feed: &str,
    builder: &mut DiffBuilder,
    indices: &[usize],
) -> anyhow::Result<()> {
    if indices.is_empty() {
        return Ok(());
    }
    let wanted: KeyMap<u128, usize> = indices
        .iter()
        .filter_map(|&index| Some((builder.accepted().key_hash(index)?, index)))
        .collect();
    let mut names = Vec::with_capacity(wanted.len());
    store.for_each_accepted(feed, &mut |key, _| {
        if let Some(&index) = wanted.get(&sku_key(key)) {
            names.push((index, key.to_owned()));
        }
    })?;
    for (index, key) in names {
        builder.name(index, key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;
    use std::time::Duration;

    use super::beside_engine;

    /// A panic while reading the state used to leave the engine's workers waiting on the
    /// accepted set forever (issue #9, point 12). The bound only detects that hang.
    #[test]
    fn a_panic_while_reading_the_state_releases_the_engine_and_becomes_an_error() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let ready: OnceLock<usize> = OnceLock::new();
            let (engine, loaded) = beside_engine(
                || *ready.wait(),
                || -> anyhow::Result<usize> { panic!("state reader bug") },
                |loaded| {
                    let _ = ready.set(*loaded.as_ref().unwrap_or(&0));
                },
            );
            let _ = done.send((engine.ok(), loaded.err().map(|e| e.to_string())));
        });
        let (engine, error) = finished
            .recv_timeout(Duration::from_secs(120))
            .expect("the engine was released instead of waiting forever");
        assert_eq!(
            engine,
            Some(0),
            "the engine saw the empty state it was given"
        );
        assert!(error.is_some_and(|e| e.contains("panicked")));
    }
}
