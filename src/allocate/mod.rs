//! Stock allocation: how a SKU's physical stock becomes the quantity and availability one
//! feed publishes. Every step only lowers the quantity, in this order:
//!
//! 1. the stock at the counted locations (a location without an inventory row for the SKU
//!    counts 0; a negative row was refused by the loader and counts 0 too);
//! 2. the feed's part of a `partition` (see [`Partition`]), when `[allocation]` names it;
//! 3. `buffer`: units held back (`max(0, stock - buffer)`);
//! 4. `share`: P % of what is left, rounded down;
//! 5. `cap`: at most N;
//! 6. thresholds: the quantity decides `in_stock`, `limited_availability` (only where the
//!    channel's spec lists it) or `out_of_stock`; below the lowest threshold the feed
//!    publishes 0, so a channel cannot sell the units it was told are gone.
//!
//! Because each feed of a partition starts from its own part and only lowers it, the
//! quantities published across the partition never add up to more than the physical stock.

mod partition;
mod policy;
#[cfg(test)]
mod tests;

pub use partition::{Claim, Partition, RawAllocation, RawMember};
pub use policy::{Level, RawThresholds, Step, StockPolicy, Thresholds, Trace};
