//! Delivering a feed's files to its channel. Transports know how to move files, nothing about
//! channels: the run engine ([`mod@crate::run`]) exports, diffs and checks the guards first, and
//! records in the state only what a [`Delivery`] reports as accepted: every item it sent
//! except those in [`Delivery::rejected`], which stay pending with the channel's message.
//!
//! One folder per destination kind beside [`DirTransport`] (a local folder); network
//! transports run on the process's one [`NetRuntime`] and share [`retry`] and [`secret`].
//! Destinations whose channel answers per item (the Google Merchant API, Meta catalogs) offer an
//! [`ItemTransport`] through [`Transport::items`]: see [`items`].

pub mod amazon_sp;
pub mod api_body;
mod content_type;
mod dir;
pub mod endpoint;
pub mod ftp;
pub mod google_merchant;
pub mod http;
pub mod items;
pub mod meta_catalog;
pub mod object_store;
pub mod retry;
pub mod runtime;
pub mod secret;
pub mod sftp;
mod token_cache;
pub mod webhook;

use std::path::PathBuf;

pub use dir::DirTransport;
pub use items::{
    ItemOperation, ItemSession, ItemTransport, ItemValues, ItemVerdict, Operation, PlannedRequest,
};
pub use runtime::NetRuntime;

use crate::feed::{Feed, RawDestination};

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    #[error("feed `{feed}`: cannot write `{path}`")]
    Io {
        feed: String,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The SFTP server could not be reached, refused the host key or login, or the upload
    /// failed; the old files are in place.
    #[error("feed `{feed}`: {target}")]
    Sftp {
        feed: String,
        target: String,
        #[source]
        source: Box<sftp::SftpError>,
    },
    /// A secret the destination names could not be read: a configuration error.
    #[error("feed `{feed}`: [destination]")]
    Secret {
        feed: String,
        #[source]
        source: secret::SecretError,
    },
    /// The destination's settings cannot be used as written (a CA file that does not parse,
    /// a URL that names no file for a feed in several parts): a configuration error.
    #[error("feed `{feed}`: [destination] {message}")]
    Destination { feed: String, message: String },
    /// The remote side refused the files, or could not be reached in time. What it held
    /// before is left as it was.
    #[error("feed `{feed}`: {message}")]
    Remote { feed: String, message: String },
}

impl PushError {
    /// What kind of failure this is, for the exit code.
    pub fn class(&self) -> crate::exit::ErrorClass {
        match self {
            PushError::Secret { .. } | PushError::Destination { .. } => {
                crate::exit::ErrorClass::Config
            }
            PushError::Io { .. } | PushError::Remote { .. } => crate::exit::ErrorClass::Output,
            // A key or password that cannot be read is configuration; the rest is delivery.
            PushError::Sftp { source, .. }
                if matches!(
                    **source,
                    sftp::SftpError::Secret(_) | sftp::SftpError::Key { .. }
                ) =>
            {
                crate::exit::ErrorClass::Config
            }
            PushError::Sftp { .. } => crate::exit::ErrorClass::Output,
        }
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

    /// The names `files` (staged feed files) get at the destination, for `push --dry-run`.
    fn remote_names(&self, feed: &Feed, files: &[PathBuf]) -> Vec<String> {
        let _ = feed;
        files
            .iter()
            .map(|path| {
                path.file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// For `push --dry-run`: connects and checks what a delivery would need (credentials,
    /// host keys, the target folder) without writing anything. Returns what it checked,
    /// one line each.
    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let _ = feed;
        Ok(vec![format!("{}: nothing to check", self.target())])
    }

    /// The item-level side of a destination whose channel takes single items
    /// ([`ItemTransport`]); the run engine then sends the diff's items through it instead of
    /// [`Transport::deliver`]ing files.
    fn items(&self) -> Option<&dyn ItemTransport> {
        None
    }
}

/// `err`'s message followed by those of its causes that it does not already contain: the
/// HTTP clients' own messages stop at "error sending request" while the cause ("connection
/// refused", "certificate expired") is what the user can act on.
pub(crate) fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let message = cause.to_string();
        if !text.contains(&message) {
            text.push_str(": ");
            text.push_str(&message);
        }
        source = cause.source();
    }
    text
}

/// The transport for a feed's `[destination]`. Network transports run on `net`.
pub fn transport_for(feed: &Feed, net: &NetRuntime) -> Box<dyn Transport> {
    match &feed.delivery {
        RawDestination::Dir { .. } => Box::new(DirTransport::new(feed.destination.clone())),
        RawDestination::Ftp(ftp) => Box::new(ftp::FtpTransport::new(ftp.clone(), net)),
        RawDestination::ObjectStore(settings) => Box::new(object_store::ObjectStoreTransport::new(
            settings.clone(),
            net,
        )),
        RawDestination::Http(settings) => Box::new(http::HttpTransport::new(settings.clone(), net)),
        RawDestination::GoogleMerchantApi(config) => Box::new(
            google_merchant::GoogleMerchantTransport::new((**config).clone(), net.handle().clone()),
        ),
        RawDestination::AmazonSpApi(config) => Box::new(amazon_sp::AmazonSpTransport::new(
            (**config).clone(),
            net.handle().clone(),
        )),
        RawDestination::MetaCatalogApi(config) => Box::new(
            meta_catalog::MetaCatalogTransport::new((**config).clone(), net.handle().clone()),
        ),
        RawDestination::Sftp(config) => Box::new(sftp::SftpTransport::new(config.clone(), net)),
    }
}
