//! Delivering a feed's files to its channel. Transports know how to move files, nothing about
//! channels: the run engine ([`mod@crate::run`]) exports, diffs and checks the guards first, and
//! records in the state only what a [`Delivery`] reports as accepted: every item it sent
//! except those in [`Delivery::rejected`], which stay pending with the channel's message.
//!
//! [`DirTransport`] (a local folder) is the one implementation; SFTP and HTTP go behind the
//! same [`Transport`] seam.

mod dir;

use std::path::PathBuf;

pub use dir::DirTransport;

use crate::feed::Feed;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("feed `{feed}`: cannot write `{path}`")]
    Io {
        feed: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl PushError {
    /// A delivery that failed.
    pub fn class(&self) -> crate::exit::ErrorClass {
        crate::exit::ErrorClass::Output
    }
}

/// What the channel took. For a file drop, "accepted" means the file landed in place.
#[derive(Debug, Clone, Default)]
pub struct Delivery {
    /// Where the files ended up.
    pub files: Vec<PathBuf>,
    pub bytes: u64,
    /// Per-item refusals `(key, message)`, for transports whose channel answers per item;
    /// a folder never refuses one.
    pub rejected: Vec<(String, String)>,
}

/// Moves one feed's finished files to its channel.
pub trait Transport {
    /// Where the files go, for messages.
    fn target(&self) -> String;

    /// Delivers `files` (complete feed files, staged on local disk) for `feed`. Either all of
    /// them are delivered, or an error says which one was not.
    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError>;

    /// Whether the destination already holds files of `feed`. A push whose state has no
    /// history of the feed stops when it does (the state was lost, or the files came from
    /// elsewhere): it cannot know what the channel holds.
    fn holds_feed(&self, feed: &Feed) -> Result<bool, PushError>;
}

/// The transport for a feed's `[destination]`.
pub fn transport_for(feed: &Feed) -> Box<dyn Transport> {
    Box::new(DirTransport::new(feed.destination.clone()))
}
