//! What can go wrong talking to an FTP server, and which of it a retry can fix: a lost
//! connection, a timeout, a 4xx reply (RFC 959: "transient negative completion") are
//! retried; a refused login, a missing TLS, an untrusted certificate or a 5xx reply are not.

use std::path::PathBuf;
use std::time::Duration;

use suppaftp::FtpError;

use crate::push::retry::{Transient, Verdict};

/// One reply of the server: its code and text.
#[derive(Debug, Clone)]
pub(super) struct Reply {
    pub(super) code: u32,
    pub(super) text: String,
}

impl std::fmt::Display for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The text usually starts with the code already.
        let code = self.code.to_string();
        if self.text.starts_with(&code) {
            f.write_str(&self.text)
        } else {
            write!(f, "{code} {}", self.text)
        }
    }
}

impl Reply {
    fn of(response: &suppaftp::types::Response) -> Reply {
        Reply {
            code: response.status.code(),
            text: String::from_utf8_lossy(&response.body).trim().to_owned(),
        }
    }

    /// 4xx: the server says try again later.
    fn is_transient(&self) -> bool {
        (400..500).contains(&self.code)
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum FtpFailure {
    #[error("cannot connect to {address}: {source}")]
    Connect {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{address} did not let us connect and log in within connect_timeout_secs = {}",
        .after.as_secs()
    )]
    ConnectTimeout { address: String, after: Duration },
    #[error("the server did not answer `{command}` within io_timeout_secs = {}", .after.as_secs())]
    Stalled { command: String, after: Duration },
    #[error(
        "{host} does not offer TLS: it answered `AUTH TLS` with `{reply}`\n  hint: ask the host for FTPS (explicit TLS); only if the server really has none, write tls = false in [destination] to send the password and the feed in the clear"
    )]
    NoTls { host: String, reply: Reply },
    #[error(
        "TLS with {host} failed: {message}\n  hint: if the server's certificate comes from a private CA, name the CA's PEM file in [destination] ca_file"
    )]
    Tls { host: String, message: String },
    #[error(
        "login as `{user}` refused: `{reply}`\n  hint: check `user` and the password in the environment variable `{password_env}`"
    )]
    Login {
        user: String,
        password_env: String,
        reply: Reply,
    },
    #[error(
        "the server has no folder `{path}` for this login: `{reply}`\n  hint: create it on the server, or fix [destination] path (relative to where the login starts, or absolute)"
    )]
    NoFolder { path: String, reply: Reply },
    #[error("the server refused `{command}`: `{reply}`")]
    Refused { command: String, reply: Reply },
    #[error("the connection was lost during `{command}`: {message}")]
    Lost { command: String, message: String },
    #[error(
        "`{name}` holds {remote} bytes on the server after the upload, not {local}: the transfer was damaged"
    )]
    SizeMismatch {
        name: String,
        local: u64,
        remote: u64,
    },
    #[error("the attempt took longer than timeout_secs = {}", .after.as_secs())]
    Timeout { after: Duration },
    #[error("cannot read the staged file `{path}`: {source}")]
    Local {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot set up TLS: {0}")]
    TlsSetup(String),
}

impl FtpFailure {
    /// The failure of `command` from suppaftp's error.
    pub(super) fn of(command: &str, err: FtpError) -> FtpFailure {
        match err {
            FtpError::UnexpectedResponse(response) => FtpFailure::Refused {
                command: command.to_owned(),
                reply: Reply::of(&response),
            },
            FtpError::SecureError(message) => FtpFailure::Tls {
                host: String::new(),
                message,
            },
            other => FtpFailure::Lost {
                command: command.to_owned(),
                message: other.to_string(),
            },
        }
    }

    /// The server's reply, when the failure is a refusal.
    pub(super) fn reply(&self) -> Option<&Reply> {
        match self {
            FtpFailure::Refused { reply, .. }
            | FtpFailure::Login { reply, .. }
            | FtpFailure::NoFolder { reply, .. }
            | FtpFailure::NoTls { reply, .. } => Some(reply),
            _ => None,
        }
    }
}

impl Transient for FtpFailure {
    fn verdict(&self) -> Verdict {
        match self {
            FtpFailure::Connect { .. }
            | FtpFailure::ConnectTimeout { .. }
            | FtpFailure::Stalled { .. }
            | FtpFailure::Lost { .. }
            | FtpFailure::SizeMismatch { .. }
            | FtpFailure::Timeout { .. } => Verdict::Retry,
            // 421 "service not available" to a login is a busy server, not a wrong password.
            FtpFailure::Refused { reply, .. } | FtpFailure::Login { reply, .. }
                if reply.is_transient() =>
            {
                Verdict::Retry
            }
            FtpFailure::Refused { .. }
            | FtpFailure::Login { .. }
            | FtpFailure::NoTls { .. }
            | FtpFailure::NoFolder { .. }
            | FtpFailure::Tls { .. }
            | FtpFailure::Local { .. }
            | FtpFailure::TlsSetup(_) => Verdict::Fatal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(code: u32) -> FtpFailure {
        FtpFailure::Refused {
            command: "STOR x".into(),
            reply: Reply {
                code,
                text: format!("{code} no"),
            },
        }
    }

    #[test]
    fn four_hundreds_are_retried_five_hundreds_are_not() {
        assert_eq!(refused(451).verdict(), Verdict::Retry);
        assert_eq!(refused(550).verdict(), Verdict::Fatal);
        let login = FtpFailure::Login {
            user: "u".into(),
            password_env: "P".into(),
            reply: Reply {
                code: 530,
                text: "530 Login incorrect".into(),
            },
        };
        assert_eq!(login.verdict(), Verdict::Fatal);
        assert!(login.to_string().contains("`530 Login incorrect`"));
    }
}
