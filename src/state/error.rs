//! Errors of the state store. Each names the file or feed so the user knows what to look at.

use std::path::PathBuf;

/// An error raised by an item source handed to [`super::StateStore::record_push`].
pub type SourceError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot create the directory for the state store `{path}`")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot open the state store `{path}`")]
    Open {
        path: PathBuf,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "the state store `{path}` has schema version {found}, but this omnifeed knows only up to \
         {known}; upgrade omnifeed"
    )]
    TooNew {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error(
        "the state store `{path}` has schema version {found}, older than this omnifeed's \
         {known}; a read-only command does not migrate it: run `omnifeed push` (it migrates the \
         store before anything else) and try again"
    )]
    TooOld {
        path: PathBuf,
        found: i64,
        known: i64,
    },
    #[error("cannot migrate the state store `{path}` to schema version {version}")]
    Migrate {
        path: PathBuf,
        version: i64,
        #[source]
        source: rusqlite::Error,
    },
    #[error("state store query failed while {action}")]
    Sql {
        action: &'static str,
        #[source]
        source: rusqlite::Error,
    },
    #[error(
        "item `{key}` of feed `{feed}` came without field values, but its hash differs from the \
         accepted one; nothing was recorded"
    )]
    MissingFields { feed: String, key: String },
    #[error("reading the items to record for feed `{feed}` failed; nothing was recorded")]
    ItemSource {
        feed: String,
        #[source]
        source: SourceError,
    },
    #[error("the state store holds a corrupt value for `{what}`: {reason}")]
    Corrupt { what: String, reason: String },
    #[error("run {0} does not exist in the state store")]
    UnknownRun(i64),
}

impl StateError {
    /// The state could not be read or written, except for two mistakes of the user's: a
    /// store from a newer omnifeed and a run id that does not exist.
    pub fn class(&self) -> crate::exit::ErrorClass {
        match self {
            StateError::TooNew { .. } | StateError::UnknownRun(_) => {
                crate::exit::ErrorClass::Config
            }
            _ => crate::exit::ErrorClass::Output,
        }
    }
}

/// Wraps a rusqlite error with what the store was doing, for use in `map_err`.
pub(crate) fn sql(action: &'static str) -> impl FnOnce(rusqlite::Error) -> StateError {
    move |source| StateError::Sql { action, source }
}
