//! What was pushed where: the last sent and last accepted content of every item per feed, and
//! a history of runs. Diffs compare against what a channel last *accepted*.
//!
//! One push of one feed is recorded in one transaction ([`StateStore::record_push`]), so a
//! process killed mid-write leaves either the previous state or the new one, never a mix.

mod codec;
mod error;
mod items;
mod schema;
mod sqlite;
mod types;

#[cfg(test)]
mod tests;

use std::collections::{BTreeMap, HashMap};

use jiff::Timestamp;

pub use error::{SourceError, StateError};
pub use sqlite::SqliteStore;
pub use types::{
    FeedCounts, ItemRejection, Outcome, PendingRejection, PushSummary, PushedItem, RunDetail,
    RunFeed, RunId, RunSummary, Verdict,
};

/// Field name -> value, as shown in diffs.
pub type Fields = BTreeMap<String, String>;

/// A store of pushed state. [`SqliteStore`] is the only backend today; the trait keeps the
/// command code independent of it so a shared PostgreSQL backend can be added later.
pub trait StateStore {
    /// Starts a run and returns its id. `feeds` get a `run_feeds` row each, with zero counts.
    fn begin_run(
        &mut self,
        command: &str,
        feeds: &[&str],
        catalog_modified_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<RunId, StateError>;

    /// Ends a run with its outcome and the per-feed counts (feeds not yet known are added).
    fn finish_run(
        &mut self,
        run: RunId,
        outcome: Outcome,
        counts: &[(&str, FeedCounts)],
        now: Timestamp,
    ) -> Result<(), StateError>;

    /// Key -> accepted content hash of every item the channel has accepted for `feed`.
    /// Loads no field values, so it stays fast for millions of items.
    fn accepted_hashes(&self, feed: &str) -> Result<HashMap<String, u128>, StateError>;

    /// The same items as [`StateStore::accepted_hashes`], handed to `each` one by one
    /// instead of collected, so a caller with a million of them keeps only what it needs.
    fn for_each_accepted(
        &self,
        feed: &str,
        each: &mut dyn FnMut(&str, u128),
    ) -> Result<(), StateError>;

    /// Accepted field values of the given keys; keys without accepted values are left out.
    fn accepted_fields(
        &self,
        feed: &str,
        keys: &[&str],
    ) -> Result<HashMap<String, Fields>, StateError>;

    /// Records the outcome of pushing `feed` in `run`, all or nothing: the items the channel
    /// answered (accepted or rejected) and the keys whose removal it accepted. If `items`
    /// yields an error, or anything fails, nothing is written.
    fn record_push<I, E>(
        &mut self,
        feed: &str,
        run: RunId,
        items: I,
        removed: &[&str],
        now: Timestamp,
    ) -> Result<PushSummary, StateError>
    where
        I: IntoIterator<Item = Result<PushedItem, E>>,
        E: Into<SourceError>;

    /// The items of `feed` whose last sent content the channel rejected, sorted by key.
    fn pending_rejections(&self, feed: &str) -> Result<Vec<PendingRejection>, StateError>;

    /// Keys of items last accepted before `older_than`, sorted: candidates for a refresh
    /// before the channel expires them (Google drops items not refreshed within 30 days).
    fn stale_items(&self, feed: &str, older_than: Timestamp) -> Result<Vec<String>, StateError>;

    /// The newest catalog time of any run that recorded items for `feed`.
    fn last_catalog_time(&self, feed: &str) -> Result<Option<Timestamp>, StateError>;

    /// The newest `limit` runs, newest first.
    fn runs(&self, limit: u32) -> Result<Vec<RunSummary>, StateError>;

    /// One run with its per-feed counts.
    fn run(&self, id: RunId) -> Result<Option<RunDetail>, StateError>;
}
