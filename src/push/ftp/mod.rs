//! `[destination] kind = "ftp"`: uploads to an FTP server, with explicit TLS unless
//! `tls = false` is written out.
//!
//! Every file of the feed is uploaded under a temporary name beside its final one
//! (`.NAME.partial`), its size checked with `SIZE`, and only when all of them are there are
//! they renamed over the old files (`RNFR`/`RNTO`). A cut upload thus never touches a final
//! name, and the channel never sees half a feed or a mix of two runs' parts. A server that
//! refuses to rename over an existing file gets it deleted first, with a warning (the file
//! is missing for a moment). A failed attempt is retried from the start on a new connection
//! when a retry can help (`error.rs` says which); the temporary names are fixed, so a retry
//! or the next run writes over what a cut one left.

mod config;
mod error;
mod publish;
mod session;
mod tls;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub use config::FtpDestination;
use error::FtpFailure;
use publish::{Stale, remove_stale, replace};
use session::Session;
use suppaftp::tokio_rustls::TlsConnector;

use super::retry::RetryPolicy;
use super::secret::{self, Secret};
use super::{Delivery, PushError, Transport};
use crate::feed::Feed;

pub struct FtpTransport {
    destination: FtpDestination,
    runtime: tokio::runtime::Handle,
}

/// One file to deliver: the staged copy and its names on the server.
struct Upload<'f> {
    local: &'f Path,
    size: u64,
    temp: String,
    name: String,
}

impl FtpTransport {
    pub fn new(destination: FtpDestination, runtime: tokio::runtime::Handle) -> FtpTransport {
        FtpTransport {
            destination,
            runtime,
        }
    }

    fn password(&self, feed: &Feed) -> Result<Secret, PushError> {
        secret::from_env(&self.destination.password_env, "FTP password").map_err(|source| {
            PushError::Secret {
                feed: feed.id.clone(),
                source,
            }
        })
    }

    /// The TLS connector, or `None` with the warning when `tls = false`.
    fn tls(&self, feed: &Feed) -> Result<Option<TlsConnector>, PushError> {
        if !self.destination.tls {
            if first_clear_warning(&feed.id) {
                eprintln!(
                    "warning: feed `{}`: tls = false: the password and the feed go to {} in the clear",
                    feed.id,
                    self.destination.target()
                );
            }
            return Ok(None);
        }
        tls::connector(self.destination.ca_file.as_deref())
            .map(Some)
            .map_err(|failure| self.failed(feed, failure, None))
    }

    /// The push error for `failure`, with the password scrubbed from whatever the server
    /// said (a server may echo a command back).
    fn failed(&self, feed: &Feed, failure: FtpFailure, password: Option<&Secret>) -> PushError {
        let mut message = failure.to_string();
        if let Some(password) = password {
            message = message.replace(password.expose(), "***");
        }
        PushError::Remote {
            feed: feed.id.clone(),
            message: format!("{}: {message}", self.destination.target()),
        }
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.destination.retries,
            ..RetryPolicy::default()
        }
    }

    /// Runs `attempt` on a fresh session, each try bounded by `timeout_secs`, retried as
    /// [`RetryPolicy`] says; retries are announced on stderr.
    fn with_session<T>(
        &self,
        feed: &Feed,
        attempt: impl AsyncFn(&mut Session) -> Result<T, FtpFailure>,
    ) -> Result<T, PushError> {
        let password = self.password(feed)?;
        let tls = self.tls(feed)?;
        let destination = &self.destination;
        let timeout = destination.timeout();
        let (password_ref, tls_ref, attempt_ref) = (&password, tls.as_ref(), &attempt);
        let once = || async move {
            let work = async {
                let mut session = Session::open(destination, password_ref, tls_ref).await?;
                let result = attempt_ref(&mut session).await?;
                session.quit().await;
                Ok(result)
            };
            tokio::time::timeout(timeout, work)
                .await
                .unwrap_or(Err(FtpFailure::Timeout { after: timeout }))
        };
        let retried = self
            .runtime
            .block_on(self.policy().run(once, |failure, wait| {
                let message = failure.to_string().replace(password.expose(), "***");
                eprintln!(
                    "warning: feed `{}`: {}: {message}; retrying in {:.1}s",
                    feed.id,
                    destination.target(),
                    wait.as_secs_f64()
                );
            }));
        retried.map_err(|failure| self.failed(feed, failure, Some(&password)))
    }

    /// The feed's files as uploads: staged path, size, temporary and final remote names.
    fn uploads<'f>(&self, feed: &Feed, files: &'f [PathBuf]) -> Result<Vec<Upload<'f>>, PushError> {
        let names = self.destination.remote_names(&local_names(files));
        files
            .iter()
            .zip(names)
            .map(|(local, name)| {
                let size = std::fs::metadata(local)
                    .map_err(|source| PushError::Io {
                        feed: feed.id.clone(),
                        path: local.clone(),
                        source,
                    })?
                    .len();
                Ok(Upload {
                    local,
                    size,
                    temp: format!(".{name}.partial"),
                    name,
                })
            })
            .collect()
    }

    /// The feed's name on the server when it is one file.
    fn single_name(&self, feed: &Feed) -> String {
        let gz = if feed.gzip { ".gz" } else { "" };
        self.destination
            .remote_file
            .clone()
            .unwrap_or_else(|| format!("{}.{}{gz}", feed.file_stem, feed.format.extension))
    }

    /// The name of part `part` (from 1) of the feed on the server when it is split.
    fn part_name(&self, feed: &Feed, part: usize) -> String {
        let gz = if feed.gzip { ".gz" } else { "" };
        match &self.destination.remote_file {
            Some(name) => config::numbered(name, part),
            None => format!("{}-{part:04}.{}{gz}", feed.file_stem, feed.format.extension),
        }
    }
}

impl Transport for FtpTransport {
    fn target(&self) -> String {
        self.destination.target()
    }

    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError> {
        let uploads = self.uploads(feed, files)?;
        let stale = Stale {
            single: (uploads.len() > 1).then(|| self.single_name(feed)),
            parts_from: if uploads.len() > 1 {
                uploads.len() + 1
            } else {
                1
            },
            part: &|part| self.part_name(feed, part),
        };
        let stale = &stale;
        let notes = self.with_session(feed, async |session: &mut Session| {
            // Every part lands under its temporary name before any is renamed.
            for upload in &uploads {
                let sent = session.upload(upload.local, &upload.temp).await?;
                match session.size(&upload.temp).await? {
                    Some(remote) if remote != upload.size => {
                        return Err(FtpFailure::SizeMismatch {
                            name: upload.temp.clone(),
                            local: upload.size,
                            remote,
                        });
                    }
                    // No SIZE on this server: the 226 after the transfer and the count of
                    // bytes sent are what there is.
                    None if sent != upload.size => {
                        return Err(FtpFailure::SizeMismatch {
                            name: upload.temp.clone(),
                            local: upload.size,
                            remote: sent,
                        });
                    }
                    _ => {}
                }
            }
            let mut notes = Vec::new();
            for upload in &uploads {
                if let Some(note) = replace(session, &upload.temp, &upload.name).await? {
                    notes.push(note);
                }
            }
            for name in remove_stale(session, stale).await? {
                notes.push(format!(
                    "removed `{name}`, left by an earlier run with more parts"
                ));
            }
            Ok(notes)
        })?;
        for note in notes {
            eprintln!("warning: feed `{}`: {note}", feed.id);
        }
        Ok(Delivery {
            files: uploads
                .iter()
                .map(|upload| PathBuf::from(format!("{}{}", self.target(), upload.name)))
                .collect(),
            bytes: uploads.iter().map(|upload| upload.size).sum(),
            rejected: Vec::new(),
        })
    }

    fn remote_names(&self, _feed: &Feed, files: &[PathBuf]) -> Vec<String> {
        self.destination.remote_names(&local_names(files))
    }

    fn holds_feed(&self, feed: &Feed) -> Result<bool, PushError> {
        let names = [self.single_name(feed), self.part_name(feed, 1)];
        self.with_session(feed, async |session: &mut Session| {
            for name in &names {
                let held = match session.size(name).await? {
                    Some(_) => true,
                    None => session.lists(name).await?,
                };
                if held {
                    return Ok(true);
                }
            }
            Ok(false)
        })
    }

    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let destination = &self.destination;
        let folder = self.with_session(feed, async |session: &mut Session| session.pwd().await)?;
        let security = if destination.tls {
            "explicit TLS, certificate verified"
        } else {
            "no TLS: password and files in the clear"
        };
        Ok(vec![
            format!(
                "connected to {}:{} ({security})",
                destination.host, destination.port
            ),
            format!(
                "logged in as `{}` with the password from ${}",
                destination.user, destination.password_env
            ),
            format!("remote folder {folder} is there"),
        ])
    }
}

/// Whether the `tls = false` warning for `feed` is still to be given: once per run, though
/// a push may connect for the feed more than once.
fn first_clear_warning(feed: &str) -> bool {
    static WARNED: std::sync::Mutex<BTreeSet<String>> = std::sync::Mutex::new(BTreeSet::new());
    WARNED
        .lock()
        .map(|mut warned| warned.insert(feed.to_owned()))
        .unwrap_or(true)
}

fn local_names(files: &[PathBuf]) -> Vec<String> {
    files
        .iter()
        .map(|path| {
            path.file_name()
                .map(|name| name.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect()
}
