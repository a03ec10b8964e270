//! `push --dry-run` for a destination that takes single items: the operations a push would
//! send, counted by kind, and the first few with the very requests (method, URL, body) the
//! transport would build for them. Built from the staged records and the state like the
//! push itself ([`super::items`]), with no credentials and no network.

use std::collections::HashMap;

use serde::Serialize;

use super::plan::FeedPlan;
use crate::feed::Feed;
use crate::push::{ItemOperation, ItemTransport, Operation, PlannedRequest};
use crate::spill::Spill;
use crate::state::{SqliteStore, StateStore};

/// What an item operation does at the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OperationKind {
    /// A new item.
    Insert,
    /// An item whose content changed.
    Update,
    /// Unchanged, re-sent before the channel expires it.
    Refresh,
    /// The item left the feed.
    Delete,
    /// Refused too often for this same content and reason: not sent.
    HeldBack,
}

impl OperationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OperationKind::Insert => "insert",
            OperationKind::Update => "update",
            OperationKind::Refresh => "refresh",
            OperationKind::Delete => "delete",
            OperationKind::HeldBack => "held back",
        }
    }
}

/// One operation a push would send (or hold back).
#[derive(Debug, Serialize)]
pub struct PlannedOperation {
    pub key: String,
    pub operation: OperationKind,
    /// The request; none when the item is held back or cannot be sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request: Option<PlannedRequest>,
    /// Why it is not sent: the rejection that holds it back, or why no request can carry it
    /// (a push records the same reason as the channel's rejection).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The item operations of one feed's push.
#[derive(Debug, Default, Serialize)]
pub struct PlannedItems {
    pub insert: u64,
    pub update: u64,
    pub refresh: u64,
    pub delete: u64,
    pub held_back: u64,
    /// The first operations in the order a push sends them (upserts, then deletes), as many
    /// as `--show-items` asks for.
    pub operations: Vec<PlannedOperation>,
}

impl PlannedItems {
    fn count(&mut self, kind: OperationKind) {
        *match kind {
            OperationKind::Insert => &mut self.insert,
            OperationKind::Update => &mut self.update,
            OperationKind::Refresh => &mut self.refresh,
            OperationKind::Delete => &mut self.delete,
            OperationKind::HeldBack => &mut self.held_back,
        } += 1;
    }
}

/// The operations `transport` would be sent for `feed`: its staged `spill` (added, changed
/// and refresh-due records) and the plan's removed keys, less the held-back items.
pub(super) fn plan_items(
    transport: &dyn ItemTransport,
    feed: &Feed,
    plan: &FeedPlan,
    spill: Spill,
    store: Option<&SqliteStore>,
    shown: usize,
) -> anyhow::Result<PlannedItems> {
    let limit = transport.hold_back_after();
    let held: HashMap<String, (u128, String)> = match store {
        Some(store) => store
            .pending_rejections(&feed.id)?
            .into_iter()
            .filter(|pending| pending.rejections >= limit)
            .map(|pending| (pending.key, (pending.sent_hash, pending.reason)))
            .collect(),
        None => HashMap::new(),
    };
    let held_reason = |key: &str, hash: u128| match held.get(key) {
        Some((sent_hash, reason)) if *sent_hash == hash => {
            Some(format!("held back after {limit} rejections: {reason}"))
        }
        _ => None,
    };
    let mut planned = PlannedItems::default();
    let show = |planned: &mut PlannedItems,
                key: &str,
                kind: OperationKind,
                operation: Option<Operation>,
                held: Option<String>|
     -> anyhow::Result<()> {
        planned.count(kind);
        if planned.operations.len() >= shown {
            return Ok(());
        }
        let (request, reason) = match (operation, held) {
            (_, Some(reason)) => (None, Some(reason)),
            (None, None) => (None, None),
            (Some(operation), None) => {
                let operation = ItemOperation {
                    key: key.to_owned(),
                    operation,
                };
                match transport.preview(feed, &operation)? {
                    Ok(request) => (Some(request), None),
                    Err(reason) => (None, Some(reason)),
                }
            }
        };
        planned.operations.push(PlannedOperation {
            key: key.to_owned(),
            operation: kind,
            request,
            reason,
        });
        Ok(())
    };

    for record in spill.read()? {
        let record = record.map_err(|err| anyhow::anyhow!("cannot read the spill file: {err}"))?;
        let kind = match plan.accepted.get(&record.key) {
            None => OperationKind::Insert,
            Some(found) if found.hash != record.hash => OperationKind::Update,
            Some(_) => OperationKind::Refresh,
        };
        let held = held_reason(&record.key, record.hash);
        let kind = if held.is_some() {
            OperationKind::HeldBack
        } else {
            kind
        };
        show(
            &mut planned,
            &record.key,
            kind,
            record.values.map(Operation::Upsert),
            held,
        )?;
    }
    for item in &plan.diff.removed {
        let Some(found) = plan.accepted.get(&item.key) else {
            continue;
        };
        let held = held_reason(&item.key, found.hash);
        let kind = if held.is_some() {
            OperationKind::HeldBack
        } else {
            OperationKind::Delete
        };
        show(&mut planned, &item.key, kind, Some(Operation::Delete), held)?;
    }
    Ok(planned)
}
