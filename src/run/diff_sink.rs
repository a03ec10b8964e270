//! The sink of the planning pass: on the worker threads it compares each record with the
//! accepted set; the field map is built only for new or changed records.

use std::path::PathBuf;
use std::sync::{Arc, OnceLock, RwLock};

use crate::diff::{Accepted, DiffBuilder, Duplicate, Listing, Seen};
use crate::export::{self, RecordSink, RecordView};
use crate::feed::Feed;

/// Diffs every record against the accepted hashes.
pub(super) struct DiffSink<'f> {
    feeds: &'f [Feed],
    /// Per feed, set once the state is read (see [`super::analyze`]).
    accepted: &'f OnceLock<Vec<Arc<Accepted>>>,
    /// Which added and removed items are listed with their fields.
    pub(super) listing: Listing,
    /// Where the builders spill changed items' fields.
    spill_dir: Option<PathBuf>,
    /// Per feed, [`DiffBuilder::added_cutoff`] as the collector last saw it: the workers
    /// skip building fields of added items at or past it. A first `diff` of a million
    /// items lists 20 and, without it, built every one's fields.
    cutoffs: Vec<RwLock<Option<String>>>,
    /// The cutoffs as last published, so the collector locks only when one falls.
    published: Vec<Option<String>>,
    /// Made at the first collected record, when `accepted` is ready.
    builders: Vec<DiffBuilder>,
    /// The first duplicate key per feed; reported after the pass, since `collect` can't fail.
    errors: Vec<Option<Duplicate>>,
}

impl<'f> DiffSink<'f> {
    pub(super) fn new(
        feeds: &'f [Feed],
        accepted: &'f OnceLock<Vec<Arc<Accepted>>>,
        listing: Listing,
        spill_dir: Option<PathBuf>,
    ) -> DiffSink<'f> {
        DiffSink {
            feeds,
            accepted,
            listing,
            spill_dir,
            cutoffs: feeds.iter().map(|_| RwLock::new(None)).collect(),
            published: feeds.iter().map(|_| None).collect(),
            builders: Vec::new(),
            errors: feeds.iter().map(|_| None).collect(),
        }
    }

    /// Per feed, the builder and the first duplicate key found.
    pub(super) fn finish(mut self) -> (Vec<DiffBuilder>, Vec<Option<Duplicate>>) {
        (std::mem::take(self.builders()), self.errors)
    }

    fn builders(&mut self) -> &mut Vec<DiffBuilder> {
        if self.builders.is_empty() {
            self.builders = self
                .accepted
                .wait()
                .iter()
                .map(|accepted| {
                    let builder = DiffBuilder::shared(Arc::clone(accepted));
                    let builder = match &self.spill_dir {
                        Some(dir) => builder.spill_in(dir.clone()),
                        None => builder,
                    };
                    builder.listing(self.listing.clone())
                })
                .collect();
        }
        &mut self.builders
    }
}

impl DiffSink<'_> {
    /// Whether an added item of `feed` with this key gets its fields built (and so carries
    /// them in its [`Seen::Added`]).
    pub(super) fn lists_fields_of(&self, feed: usize, key: &str) -> bool {
        self.listing.lists_fields_of(key)
            && self.cutoffs[feed]
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_deref()
                .is_none_or(|cutoff| key < cutoff)
    }
}

impl RecordSink for DiffSink<'_> {
    type Item = Seen;

    fn record(&self, feed: usize, view: &RecordView<'_, '_>) -> Seen {
        Seen::classify_lazily(
            &self.accepted.wait()[feed],
            &view.key,
            view.hash,
            || self.lists_fields_of(feed, &view.key),
            || export::record_fields(&self.feeds[feed].spec, view.record),
        )
    }

    fn collect(&mut self, feed: usize, seen: Seen) {
        // Made at the first record; then borrowed beside the cutoffs.
        self.builders();
        let builder = &mut self.builders[feed];
        let pushed = builder.push_seen(seen);
        // Only ever lowered: a worker that read an older one builds a few fields too many.
        if let Some(cutoff) = builder.added_cutoff()
            && self.published[feed].as_deref() != Some(cutoff)
        {
            self.published[feed] = Some(cutoff.to_owned());
            *self.cutoffs[feed]
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = Some(cutoff.to_owned());
        }
        if let Err(err) = pushed
            && self.errors[feed].is_none()
        {
            self.errors[feed] = Some(err);
        }
    }
}
