//! Exit codes are part of the CLI contract (README "Exit codes", `omnifeed --help`). Never
//! reuse or renumber one.
//!
//! Stage errors do not pick a number: each says what kind of failure it is
//! ([`ErrorClass`]), and [`crate::report::fatal`] turns the class into the code.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// Data: the catalog or a feed's items have errors, a channel limit or a guard stopped
    /// a feed, `diff --exit-code` found changes, or `check` found feeds that disagree.
    /// Nothing invalid was pushed.
    Invalid = 1,
    /// Usage or configuration: bad flags, or a config, channel spec, feed definition or
    /// catalog file that cannot be read as configured. Nothing was written.
    Usage = 2,
    /// Output or delivery failed: a feed file or the state could not be written, a
    /// destination refused or could not be reached.
    PushFailed = 3,
    /// Another omnifeed run holds the project's lock; nothing was done.
    Locked = 4,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}

/// What kind of failure an error is, decided where it arises. The exit code follows from
/// it; see [`Exit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The data is wrong: the user fixes the catalog (or overrides a guard).
    Data,
    /// The flags, config, specs or feed definitions are wrong: the user fixes those.
    Config,
    /// Writing or delivering failed: disk, permissions, the destination, the state store.
    Output,
    /// Another run holds the project lock: wait for it.
    Locked,
}

impl From<ErrorClass> for Exit {
    fn from(class: ErrorClass) -> Exit {
        match class {
            ErrorClass::Data => Exit::Invalid,
            ErrorClass::Config => Exit::Usage,
            ErrorClass::Output => Exit::PushFailed,
            ErrorClass::Locked => Exit::Locked,
        }
    }
}

/// An error raised outside a stage's own error enum (command glue, a worker thread), with its
/// class stated where it arises.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ClassedError {
    pub class: ErrorClass,
    pub message: String,
}

impl ClassedError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> ClassedError {
        ClassedError {
            class,
            message: message.into(),
        }
    }
}
