//! The run engine: a push is plan, deliver, record.
//!
//! - [`plan`]: one engine pass diffs every feed against what its channel last accepted,
//!   counts the items due for an expiry refresh and evaluates the guards (`diff` stops here).
//!   For a push the same pass also writes every feed's files into a staging folder and
//!   spills the records the state must learn ([`stage`]).
//! - [`deliver`]: each feed that passed its guards goes through its
//!   [`Transport`](crate::push::Transport).
//! - [`record`]: what the channel accepted is recorded in the state, one transaction per
//!   feed, and the run's end with its per-feed counts.
//! - `items`: a destination that takes single items is sent the diff item by item, and
//!   each answered batch is recorded from the per-item verdicts.
//!
//! [`push::push`] runs the three in order. The commands in `commands/` only parse flags,
//! call these and print.

pub mod deliver;
mod diff_sink;
pub mod dry_run;
mod dry_run_items;
mod items;
pub mod lock;
pub mod plan;
pub mod push;
pub mod record;
pub mod stage;
pub mod sync;

pub use dry_run::{DryRun, DryRunFeed, DryRunOutcome, dry_run};
pub use dry_run_items::{OperationKind, PlannedItems, PlannedOperation};
pub use lock::{LockError, ProjectLock};
pub use plan::{FeedPlan, Plan, PlanOptions, analyze, open_existing_store};
pub use push::{FeedOutcome, FeedResult, PushOptions, PushRun, Rejection, push};

#[cfg(test)]
mod tests;
