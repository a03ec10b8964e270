//! Item-level delivery, the second kind of transport beside file drops: a channel API that
//! takes single items and answers for each one. The run engine ([`mod@crate::run`]) hands a
//! session the diff's added, changed and refresh-due items with their rendered fields
//! (upserts) and the removed keys (deletes), a batch at a time, and records each item from
//! its [`ItemVerdict`]: accepted items become the accepted state, rejected ones keep their
//! old accepted content with the channel's reason, and items not sent are not recorded at
//! all, so the next push sends them again.

use std::collections::BTreeMap;

use crate::feed::Feed;

use super::PushError;

/// Rejections in a row (same content, same reason) after which an item is held back, unless
/// the destination sets `hold_back_after`.
pub const DEFAULT_HOLD_BACK_AFTER: u32 = 3;

/// `Transport::deliver` of a channel API that takes items (`api` names it): the engine
/// sends them through `Transport::items`, so files never come here.
pub fn files_refused(feed: &Feed, api: &str) -> Result<super::Delivery, PushError> {
    Err(PushError::Destination {
        feed: feed.id.clone(),
        message: format!("{api} takes items, not files"),
    })
}

/// An item's full rendered values by channel field name; a field that is not repeated has
/// one value. (The state keeps long values shortened; the channel gets them whole.)
pub type ItemValues = BTreeMap<String, Vec<String>>;

/// What to do with one item at the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// Insert or replace the item with these rendered channel fields (added, changed, or
    /// due for an expiry refresh).
    Upsert(ItemValues),
    /// The item left the feed: delete it at the channel.
    Delete,
}

/// One item operation, keyed by the feed's item key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemOperation {
    pub key: String,
    pub operation: Operation,
}

/// The channel's answer for one operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemVerdict {
    /// The channel took it.
    Accepted,
    /// The channel took it and warned (its messages): shown in the push's report, recorded
    /// as accepted.
    AcceptedWithWarnings(String),
    /// The channel refused this item for a reason a retry cannot fix (its message).
    Rejected(String),
    /// It never got an answer: a timeout, a 5xx after the retries, a dropped connection, the
    /// feed's deadline. Nothing is recorded, so the next push sends it again.
    NotSent(String),
}

/// The request a push would send for one operation, as `push --dry-run` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PlannedRequest {
    pub method: String,
    pub url: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<serde_json::Value>,
}

/// One feed's delivery in progress: the credentials, client and deadline it opened with.
pub trait ItemSession {
    /// Sends `batch` and returns one verdict per operation, in order. An `Err` is a failure
    /// no item can get past (credentials refused, the account unknown): the feed stops,
    /// and what earlier batches recorded stands.
    fn send(&mut self, batch: &[ItemOperation]) -> Result<Vec<ItemVerdict>, PushError>;
}

/// A channel API that takes single items.
pub trait ItemTransport {
    /// Where the items go, for messages.
    fn target(&self) -> String;

    /// An item the channel rejected this many times in a row, for the same content and the
    /// same reason, is held back (not sent again) until its content changes.
    fn hold_back_after(&self) -> u32;

    /// Operations handed to one [`ItemSession::send`] (and recorded together) at most: a
    /// channel that takes whole documents wants a document's worth.
    fn batch_size(&self) -> usize {
        4096
    }

    /// The request `operation` of `feed` would be sent as, built without credentials or
    /// network; the inner `Err` says why the channel could not be sent this item at all.
    /// The outer `Err` is a setting of the feed's destination that stops every item.
    fn preview(
        &self,
        feed: &Feed,
        operation: &ItemOperation,
    ) -> Result<Result<PlannedRequest, String>, PushError>;

    /// Starts delivering `feed`, `total` operations in all (for the progress bar and the
    /// feed's deadline, which starts now).
    fn open<'a>(
        &'a self,
        feed: &'a Feed,
        total: u64,
        progress: &'a crate::report::progress::Progress,
    ) -> Result<Box<dyn ItemSession + 'a>, PushError>;
}
