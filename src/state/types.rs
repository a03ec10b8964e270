//! Plain data passed in and out of the state store.

use jiff::Timestamp;
use serde::Serialize;

use super::Fields;

/// Id of a run, increasing with every `begin_run`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct RunId(pub i64);

/// How a run ended. Stored as its `as_str` text; never rename a variant's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Started and not finished: still running, or the process died and no run has taken
    /// the project lock since.
    Running,
    Ok,
    /// Pushed, but the channel rejected some items.
    Partial,
    GuardTripped,
    Failed,
    DryRun,
    /// Its process died before it finished; set by the next run that takes the project lock.
    Interrupted,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Running => "running",
            Outcome::Ok => "ok",
            Outcome::Partial => "partial",
            Outcome::GuardTripped => "guard_tripped",
            Outcome::Failed => "failed",
            Outcome::DryRun => "dry_run",
            Outcome::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<Outcome> {
        [
            Outcome::Running,
            Outcome::Ok,
            Outcome::Partial,
            Outcome::GuardTripped,
            Outcome::Failed,
            Outcome::DryRun,
            Outcome::Interrupted,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }
}

/// Per-feed counts of one run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FeedCounts {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    pub unchanged: u64,
    pub sent: u64,
    pub accepted: u64,
    pub rejected: u64,
}

/// The channel's answer for one item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Accepted,
    /// The channel's message, stored as the item's verdict text.
    Rejected(String),
}

/// One item as sent to a channel, with the channel's verdict.
#[derive(Debug, Clone)]
pub struct PushedItem {
    pub key: String,
    /// [`crate::diff::content_hash`] of `fields`.
    pub hash: u128,
    /// The field values sent. `None` means "same content as last accepted" (the diff found the
    /// hash unchanged), so the stored values are kept; the store refuses `None` when the hash
    /// differs from the accepted one, rather than keep values that no longer match.
    pub fields: Option<Fields>,
    pub verdict: Verdict,
}

/// What [`super::StateStore::record_push`] wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct PushSummary {
    pub accepted: u64,
    pub rejected: u64,
    pub removed: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunSummary {
    pub id: RunId,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub command: String,
    pub feeds: Vec<String>,
    pub outcome: Outcome,
    pub catalog_modified_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunFeed {
    pub feed: String,
    pub counts: FeedCounts,
    /// The items the channel rejected in this run, by key, with its reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rejected_items: Vec<ItemRejection>,
    /// When this feed's items were recorded; `None` if nothing was recorded (dry run, guard
    /// tripped, push failed).
    pub recorded_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunDetail {
    pub summary: RunSummary,
    pub feeds: Vec<RunFeed>,
}

/// An item the channel refused, with its reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemRejection {
    pub key: String,
    pub reason: String,
}

/// An item whose last sent content the channel rejected: it stays pending, and diffs keep
/// comparing against its last accepted content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PendingRejection {
    pub key: String,
    /// The channel's reason, as last given.
    pub reason: String,
    /// Consecutive runs that were refused this same content for this same reason.
    pub rejections: u32,
    /// [`crate::diff::content_hash`] of the refused content.
    #[serde(skip)]
    pub sent_hash: u128,
}
