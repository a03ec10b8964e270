//! Secrets (passwords, passphrases, tokens, keys) for transports. They come from an
//! environment variable or a file the config names, never from the config itself, and a
//! [`Secret`] cannot be printed: `Debug` and `Display` show `***`, so a secret that reaches
//! an error message, a log line or a report by mistake is still not shown.

use std::fmt;
use std::path::{Path, PathBuf};

/// A secret value; [`Secret::expose`] is the one way to read it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one call that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// Why a secret could not be read. Names where it was looked for, never a value.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error(
        "the environment variable `{var}` ({what}) is not set\n  hint: export {var}=… before the run, or name another variable in the feed's [destination]"
    )]
    MissingVar { var: String, what: &'static str },
    #[error("the environment variable `{var}` ({what}) is empty")]
    EmptyVar { var: String, what: &'static str },
    #[error("the environment variable `{var}` ({what}) is not valid UTF-8")]
    NotUnicode { var: String, what: &'static str },
    #[error("cannot read `{path}` ({what})")]
    File {
        path: PathBuf,
        what: &'static str,
        #[source]
        source: std::io::Error,
    },
}

/// The secret in the environment variable `var`; `what` says what it is for, in errors.
pub fn from_env(var: &str, what: &'static str) -> Result<Secret, SecretError> {
    match std::env::var(var) {
        Ok(value) if value.is_empty() => Err(SecretError::EmptyVar {
            var: var.to_owned(),
            what,
        }),
        Ok(value) => Ok(Secret(value)),
        Err(std::env::VarError::NotPresent) => Err(SecretError::MissingVar {
            var: var.to_owned(),
            what,
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(SecretError::NotUnicode {
            var: var.to_owned(),
            what,
        }),
    }
}

/// The secret in the environment variable `var` when it is set, else `None`.
pub fn from_env_if_set(var: &str, what: &'static str) -> Result<Option<Secret>, SecretError> {
    match from_env(var, what) {
        Ok(secret) => Ok(Some(secret)),
        Err(SecretError::MissingVar { .. }) => Ok(None),
        Err(err) => Err(err),
    }
}

/// The content of the file at `path` (a key, a token file), with one trailing newline
/// removed: files written by `echo` end in one.
pub fn from_file(path: &Path, what: &'static str) -> Result<Secret, SecretError> {
    let mut value = std::fs::read_to_string(path).map_err(|source| SecretError::File {
        path: path.to_owned(),
        what,
        source,
    })?;
    if value.ends_with('\n') {
        value.pop();
        if value.ends_with('\r') {
            value.pop();
        }
    }
    Ok(Secret(value))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_prints() {
        let secret = Secret::new("hunter2".into());
        assert_eq!(format!("{secret} {secret:?}"), "*** Secret(***)");
        assert_eq!(secret.expose(), "hunter2");
    }

    #[test]
    fn a_missing_variable_is_named_and_no_value_shown() {
        let err = from_env("OMNIFEED_TEST_SURELY_UNSET", "SFTP password").unwrap_err();
        let text = err.to_string();
        assert!(text.contains("OMNIFEED_TEST_SURELY_UNSET"), "{text}");
        assert!(text.contains("SFTP password"), "{text}");
    }

    #[test]
    fn a_file_loses_its_trailing_newline_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        std::fs::write(&path, " s3cret \n").unwrap();
        assert_eq!(from_file(&path, "token").unwrap().expose(), " s3cret ");
    }
}
