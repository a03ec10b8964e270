//! Exit codes are part of the CLI contract (README "Exit codes"). Never reuse or renumber one.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// The catalog or a feed failed validation, or `--exit-code` found changes, or a guard
    /// tripped. Nothing invalid was pushed.
    Invalid = 1,
    /// Bad flags, or a config, channel spec, feed definition or catalog file that can't be read.
    Usage = 2,
    /// A destination rejected the push or could not be reached.
    PushFailed = 3,
    /// Another omnifeed run holds the project lock; nothing was done.
    Locked = 4,
}

impl From<Exit> for std::process::ExitCode {
    fn from(exit: Exit) -> Self {
        std::process::ExitCode::from(exit as u8)
    }
}
