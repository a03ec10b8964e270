//! What can go wrong talking to an SFTP server, and which failures a retry can fix.

use std::path::PathBuf;

use russh_sftp::client::error::Error as SftpProtocolError;
use russh_sftp::protocol::StatusCode;

use super::known_hosts::HostKeyRefusal;
use crate::push::retry::{Transient, Verdict};
use crate::push::secret::SecretError;

#[derive(Debug, thiserror::Error)]
pub enum SftpError {
    #[error("cannot connect to {addr}: {source}")]
    Connect {
        addr: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{addr} did not answer within {secs} s (connect, key exchange and login)\n  hint: check \
         host and port, or raise [destination] connect_timeout"
    )]
    ConnectTimeout { addr: String, secs: u64 },
    #[error("{0}")]
    HostKey(Box<HostKeyRefusal>),
    #[error("cannot read the known_hosts file `{path}`")]
    KnownHosts {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("SSH connection to {addr} failed while {doing}: {source}")]
    Ssh {
        addr: String,
        doing: &'static str,
        #[source]
        source: russh::Error,
    },
    #[error(
        "{addr} refused the login of `{user}` by {method}{}\n  hint: check [destination] user, \
         the key or password, and that the server allows this method",
        if .remaining.is_empty() { String::new() } else { format!(" (it accepts: {})", .remaining) }
    )]
    Login {
        addr: String,
        user: String,
        method: &'static str,
        remaining: String,
    },
    #[error("cannot use the key file `{path}`: {reason}")]
    Key { path: PathBuf, reason: String },
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("SFTP {doing} `{path}` failed: {source}")]
    Remote {
        doing: &'static str,
        path: String,
        #[source]
        source: SftpProtocolError,
    },
    #[error(
        "`{path}` is not a folder on the server\n  hint: set [destination] path to an existing folder"
    )]
    NotAFolder { path: String },
    #[error("cannot read `{path}`")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "`{path}` holds {remote} bytes after the upload, {local} were sent; the file was not \
         renamed into place"
    )]
    SizeMismatch {
        path: String,
        local: u64,
        remote: u64,
    },
    #[error(
        "the delivery took longer than {secs} s and was stopped; nothing was renamed into place \
         unless said above\n  hint: raise [destination] timeout"
    )]
    Timeout { secs: u64 },
}

impl SftpError {
    /// Whether the error is the server's refusal of something a retry would ask again.
    fn remote_verdict(source: &SftpProtocolError) -> Verdict {
        match source {
            SftpProtocolError::Status(status) => match status.status_code {
                // The session died under the request.
                StatusCode::ConnectionLost | StatusCode::NoConnection => Verdict::Retry,
                // Refusals (permission, no such folder, quota): asking again changes nothing.
                _ => Verdict::Fatal,
            },
            SftpProtocolError::Limited(_) => Verdict::Fatal,
            // Timeouts, a closed channel, a broken stream.
            SftpProtocolError::IO(_)
            | SftpProtocolError::Timeout
            | SftpProtocolError::UnexpectedPacket
            | SftpProtocolError::UnexpectedBehavior(_) => Verdict::Retry,
        }
    }
}

impl Transient for SftpError {
    fn verdict(&self) -> Verdict {
        match self {
            SftpError::Connect { .. }
            | SftpError::ConnectTimeout { .. }
            | SftpError::Ssh { .. }
            | SftpError::SizeMismatch { .. } => Verdict::Retry,
            SftpError::Remote { source, .. } => SftpError::remote_verdict(source),
            SftpError::HostKey(_)
            | SftpError::KnownHosts { .. }
            | SftpError::Login { .. }
            | SftpError::Key { .. }
            | SftpError::Secret(_)
            | SftpError::NotAFolder { .. }
            | SftpError::Local { .. }
            | SftpError::Timeout { .. } => Verdict::Fatal,
        }
    }
}
