//! Delivery: each staged feed goes through the [`Transport`] of its destination. Transports
//! plug in here: [`crate::push::transport_for`] picks one per feed for the CLI, and tests hand
//! [`super::push()`] their own.

use super::stage::StagedFeed;
use crate::feed::Feed;
use crate::push::{Delivery, PushError, Transport};

/// Picks the transport of a feed.
pub type Transports<'t> = &'t dyn Fn(&Feed) -> Box<dyn Transport>;

/// Hands one staged feed's files to `transport`.
pub fn deliver(
    transport: &dyn Transport,
    feed: &Feed,
    staged: &StagedFeed,
) -> Result<Delivery, PushError> {
    transport.deliver(feed, &staged.files)
}
