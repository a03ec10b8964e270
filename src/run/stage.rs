//! Staging, in the planning pass of a push: while the engine diffs every feed it also
//! writes each feed's files into a staging folder and spills the records the state must
//! learn (new, changed and refreshed ones). One pass instead of a planning pass and a
//! staging pass: a push costs about one export, plus the state's write. Feeds stopped by a
//! guard leave their staged files behind, removed with the staging folder.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use anyhow::Context as _;

use super::diff_sink::DiffSink;
use super::lock::ProjectLock;
use crate::config::Config;
use crate::diff::{IndexSet, Seen};
use crate::export::{self, RecordSink, RecordView};
use crate::feed::Feed;
use crate::spill::{Spill, Spilled};

/// One feed after the staging pass.
pub struct StagedFeed {
    /// The feed's finished files in the staging folder.
    pub files: Vec<PathBuf>,
    pub(super) spill: Spill,
}

/// The planning sink plus the spill: see the module docs.
pub(super) struct StageSink<'f> {
    pub(super) diff: DiffSink<'f>,
    feeds: &'f [Feed],
    /// Per feed, the accepted items due for an expiry refresh, set with the diff's accepted
    /// sets (see [`super::plan`]).
    stale: &'f OnceLock<Vec<IndexSet>>,
    spills: Vec<Spill>,
    error: Option<std::io::Error>,
}

impl<'f> StageSink<'f> {
    pub(super) fn new(
        diff: DiffSink<'f>,
        feeds: &'f [Feed],
        stale: &'f OnceLock<Vec<IndexSet>>,
        staging: &Path,
    ) -> anyhow::Result<StageSink<'f>> {
        let spills = feeds
            .iter()
            .map(|_| Spill::new_in(staging))
            .collect::<std::io::Result<_>>()
            .context("cannot create a spill file")?;
        Ok(StageSink {
            diff,
            feeds,
            stale,
            spills,
            error: None,
        })
    }

    /// Each feed's staged feed from the engine's summaries, once the pass is over.
    pub(super) fn finish(
        self,
        summaries: &[export::FeedSummary],
    ) -> anyhow::Result<(DiffSink<'f>, Vec<StagedFeed>)> {
        if let Some(err) = self.error {
            return Err(err).context("cannot write the spill file");
        }
        let staged = summaries
            .iter()
            .zip(self.spills)
            .map(|(summary, spill)| StagedFeed {
                files: summary.files.clone(),
                spill,
            })
            .collect();
        Ok((self.diff, staged))
    }
}

impl RecordSink for StageSink<'_> {
    type Item = (Seen, Option<Vec<u8>>);

    fn record(&self, feed: usize, view: &RecordView<'_, '_>) -> Self::Item {
        // One comparison per record: the spill follows from the diff's verdict, and reuses
        // the field map the diff built.
        let seen = self.diff.record(feed, view);
        let spill = |fields: Option<&_>| {
            // An item-level channel is sent each spilled record's full values, refreshed
            // ones too.
            let values = self.feeds[feed]
                .delivery
                .sends_items()
                .then(|| export::record_values(&self.feeds[feed].spec, view.record));
            Some(Spilled::encode(
                &view.key,
                view.hash,
                fields,
                values.as_ref(),
            ))
        };
        let record = match &seen {
            Seen::Changed { fields, .. } => spill(Some(fields)),
            // The cutoff only falls: asked again, the sink never claims fields it did not
            // build (it may deny ones it did, which are then built again).
            Seen::Added { fields, .. } if self.diff.lists_fields_of(feed, &view.key) => {
                spill(Some(fields))
            }
            Seen::Added { .. } => spill(Some(&export::record_fields(
                &self.feeds[feed].spec,
                view.record,
            ))),
            Seen::Unchanged { index } if self.stale.wait()[feed].contains(*index) => spill(None),
            Seen::Unchanged { .. } => None,
        };
        (seen, record)
    }

    fn collect(&mut self, feed: usize, (seen, record): Self::Item) {
        self.diff.collect(feed, seen);
        if let Some(record) = record
            && self.error.is_none()
            && let Err(err) = self.spills[feed].push(&record)
        {
            self.error = Some(err);
        }
    }
}

/// Staging folders are made here, with this prefix.
const STAGING_PREFIX: &str = "push-staging-";

/// The folder staging folders go into: next to the state store, which is usually on the
/// destination's filesystem, so delivery is a rename; `DirTransport` copies when it is not.
pub(super) fn staging_parent(config: &Config) -> PathBuf {
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
