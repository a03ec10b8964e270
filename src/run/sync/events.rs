//! What a sync run tells its log (see [`crate::report::logging`] for the levels): one line
//! per feed and per catalog rule, each saying what to do. ERROR for what needs a person
//! (a feed not delivered, stopped, or with items left out); INFO for what went well.

use crate::diag::Findings;
use crate::run::{FeedOutcome, FeedResult, PushRun};

/// Logs each feed's fate and the catalog's findings.
pub(super) fn log_run(pushed: &PushRun) {
    log_findings("catalog rows", &pushed.catalog.findings);
    log_findings("feed items", &pushed.findings);
    for result in &pushed.feeds {
        log_feed(result);
    }
}

fn log_feed(result: &FeedResult) {
    let feed = result.feed.as_str();
    let t = &result.totals;
    match result.outcome {
        FeedOutcome::Ok | FeedOutcome::Partial => tracing::info!(
            feed,
            added = t.added,
            changed = t.changed,
            removed = t.removed,
            unchanged = t.unchanged,
            refreshed = result.refreshed,
            sent = result.sent,
            "feed pushed"
        ),
        FeedOutcome::GuardTripped => {
            for trip in &result.blocking {
                tracing::error!(
                    feed,
                    guard = trip.code.code(),
                    "feed `{feed}` not pushed: {} {}; check `omnifeed diff {feed}`, then run \
                     `omnifeed push {feed} {}` if the change is intended",
                    trip.code.code(),
                    trip.message,
                    trip.override_flag
                );
            }
            if let Some(error) = &result.error {
                tracing::error!(feed, "feed `{feed}` not pushed: {error}");
            }
        }
        FeedOutcome::Failed => tracing::error!(
            feed,
            error = result.error.as_deref().unwrap_or(""),
            "feed `{feed}` not delivered: {}; nothing of it was recorded, so the next run \
             sends it again",
            result.error.as_deref().unwrap_or("unknown error")
        ),
    }
    if !result.channel_rejections.is_empty() {
        let first = &result.channel_rejections[0];
        tracing::error!(
            feed,
            rejected = result.channel_rejections.len(),
            "feed `{feed}`: the channel rejected {} items (first: {}: {}); they stay pending: \
             fix them and the next run sends them again (the run report lists them all)",
            result.channel_rejections.len(),
            first.key,
            first.message
        );
    }
    if !result.channel_warnings.is_empty() {
        let first = &result.channel_warnings[0];
        tracing::warn!(
            feed,
            warned = result.channel_warnings.len(),
            "feed `{feed}`: the channel accepted {} items with warnings (first: {}: {}); the \
             run report lists them all",
            result.channel_warnings.len(),
            first.key,
            first.message
        );
    }
    for (rule, count) in &result.rejected {
        tracing::error!(
            feed,
            rule,
            items = count,
            "feed `{feed}`: {count} items left out by {rule}; `omnifeed export {feed}` shows \
             which and why"
        );
    }
}

/// One line per rule: errors at ERROR (their rows or items were left out), warnings at INFO.
fn log_findings(what: &str, findings: &Findings) {
    for (rule, count) in &findings.tally().by_rule {
        let Some(first) = findings.kept().iter().find(|f| f.rule == *rule) else {
            continue;
        };
        let mut at = first.file.to_string();
        if let Some(line) = first.line {
            at.push_str(&format!(":{line}"));
        }
        if let Some(sku) = &first.sku {
            at.push_str(&format!(" (SKU {sku})"));
        }
        if first.is_error() {
            tracing::error!(
                rule,
                findings = count,
                "{what}: {count} × {rule}, first at {at}: {}; hint: {}",
                first.message,
                first.hint
            );
        } else {
            tracing::info!(
                rule,
                findings = count,
                "{what}: {count} × {rule} (warning), first at {at}: {}",
                first.message
            );
        }
    }
}
