//! The staging pass of a push: the engine writes the files of the feeds that passed their
//! guards into a staging folder, and spills the records the state must learn (new, changed
//! and refreshed ones). If it sees other counts than the planning pass (the catalog changed
//! in between), the feed must not be delivered.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;

use super::lock::ProjectLock;
use super::plan::FeedPlan;
use super::spill::{Spill, Spilled};
use crate::config::Config;
use crate::diff::{Accepted, Compared, Fields, IndexSet};
use crate::export::{self, EngineOptions, RecordSink, RecordView};
use crate::feed::Feed;
use crate::load::keys::sku_key;
use crate::report::progress::Progress;

/// One feed after the staging pass.
pub struct StagedFeed {
    /// The feed's finished files in the staging folder.
    pub files: Vec<PathBuf>,
    /// Records written.
    pub records: u64,
    pub(super) spill: Spill,
    pub(super) counts: StagedCounts,
}

/// Items the staging pass classified, to compare with the plan.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct StagedCounts {
    added: u64,
    changed: u64,
    unchanged: u64,
}

impl StagedCounts {
    /// Why the feed must not be delivered, if the catalog changed since the plan.
    pub(super) fn mismatch(&self, plan: &FeedPlan) -> Option<String> {
        let t = &plan.diff.totals;
        ((self.added, self.changed, self.unchanged) != (t.added, t.changed, t.unchanged)).then(
            || {
                format!(
                    "the catalog changed while pushing (diff saw {} added, {} changed, now {} \
                     added, {} changed); nothing was delivered, run the push again",
                    t.added, t.changed, self.added, self.changed
                )
            },
        )
    }
}

/// Writes the files of `feeds` into `staging` and spills their records; `plans` are theirs.
pub fn stage(
    config: &Config,
    feeds: &[Feed],
    plans: &[FeedPlan],
    staging: &Path,
    progress: &Progress,
) -> anyhow::Result<Vec<StagedFeed>> {
    let mut sink = StageSink {
        feeds,
        accepted: plans.iter().map(|p| Arc::clone(&p.accepted)).collect(),
        stale: plans.iter().map(|p| &p.stale).collect(),
        spills: Vec::with_capacity(feeds.len()),
        counts: vec![StagedCounts::default(); feeds.len()],
        error: None,
    };
    for _ in feeds {
        sink.spills
            .push(Spill::new_in(staging).context("cannot create a spill file")?);
    }
    let options = EngineOptions {
        write: true,
        out_dir: Some(staging),
        folder_per_feed: true,
    };
    let engine = export::run(config, feeds, &options, progress, &mut sink)?;
    if let Some(err) = sink.error.take() {
        return Err(err).context("cannot write the spill file");
    }
    Ok(engine
        .summaries
        .into_iter()
        .zip(sink.spills)
        .zip(sink.counts)
        .map(|((summary, spill), counts)| StagedFeed {
            files: summary.files,
            records: summary.records,
            spill,
            counts,
        })
        .collect())
}

/// What the staging pass made of one record.
enum Staged {
    /// A spill line for a new, changed or refreshed item.
    Added(String),
    Changed(String),
    Refreshed(String),
    Unchanged,
}

struct StageSink<'f> {
    feeds: &'f [Feed],
    accepted: Vec<Arc<Accepted>>,
    /// Per feed, the stale items by their index in `accepted`.
    stale: Vec<&'f IndexSet>,
    spills: Vec<Spill>,
    counts: Vec<StagedCounts>,
    error: Option<std::io::Error>,
}

impl RecordSink for StageSink<'_> {
    type Item = Staged;

    fn record(&self, feed: usize, view: &RecordView<'_, '_>) -> Staged {
        let spill = |fields: Option<Fields>| Spilled::line(&view.key, view.hash, fields);
        let fields = || Some(export::record_fields(&self.feeds[feed].spec, view.record));
        match self.accepted[feed].compare(sku_key(&view.key), view.hash) {
            Compared::Added => Staged::Added(spill(fields())),
            Compared::Changed(_) => Staged::Changed(spill(fields())),
            Compared::Unchanged(found) if self.stale[feed].contains(found.index) => {
                Staged::Refreshed(spill(None))
            }
            Compared::Unchanged(_) => Staged::Unchanged,
        }
    }

    fn collect(&mut self, feed: usize, staged: Staged) {
        let counts = &mut self.counts[feed];
        let line = match staged {
            Staged::Added(line) => {
                counts.added += 1;
                line
            }
            Staged::Changed(line) => {
                counts.changed += 1;
                line
            }
            Staged::Refreshed(line) => {
                counts.unchanged += 1;
                line
            }
            Staged::Unchanged => {
                counts.unchanged += 1;
                return;
            }
        };
        if self.error.is_some() {
            return;
        }
        if let Err(err) = self.spills[feed].push_line(&line) {
            self.error = Some(err);
        }
    }
}

/// Staging folders are made here, with this prefix.
const STAGING_PREFIX: &str = "push-staging-";

/// The folder staging folders go into: next to the state store, which is usually on the
/// destination's filesystem, so delivery is a rename; `DirTransport` copies when it is not.
fn staging_parent(config: &Config) -> PathBuf {
    config
        .state_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

/// A fresh staging folder next to the state store; removed when dropped.
pub fn staging_folder(config: &Config) -> anyhow::Result<tempfile::TempDir> {
    let parent = staging_parent(config);
    std::fs::create_dir_all(&parent)
        .with_context(|| format!("cannot create `{}`", parent.display()))?;
    tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(&parent)
        .with_context(|| format!("cannot create a staging folder in `{}`", parent.display()))
}

/// Removes the staging folders of killed runs (a whole feed's files each). Only a run that
/// holds the project lock may call this: then no other run is staging.
pub fn remove_stale_staging(config: &Config, _lock: &ProjectLock) -> anyhow::Result<usize> {
    let parent = staging_parent(config);
    let entries = match std::fs::read_dir(&parent) {
        Ok(entries) => entries,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(err) => {
            return Err(err).with_context(|| format!("cannot list `{}`", parent.display()));
        }
    };
    let mut removed = 0;
    for entry in entries {
        let entry = entry.with_context(|| format!("cannot list `{}`", parent.display()))?;
        let stale = entry
            .file_name()
            .to_string_lossy()
            .starts_with(STAGING_PREFIX)
            && entry.file_type().is_ok_and(|kind| kind.is_dir());
        if stale {
            let path = entry.path();
            std::fs::remove_dir_all(&path).with_context(|| {
                format!(
                    "cannot remove the stale staging folder `{}`",
                    path.display()
                )
            })?;
            removed += 1;
        }
    }
    Ok(removed)
}
