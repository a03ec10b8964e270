//! `[destination] kind = "sftp"`: uploads over SFTP (Google and Microsoft Merchant Center's
//! upload servers, or a host a channel fetches from). The host key is checked against
//! `known_hosts` before anything is sent; every part is uploaded under a temporary name and
//! size-checked before the first is renamed into place, so the channel finds the old
//! feed or the new one. Connection errors and cut uploads are retried with backoff; the
//! state records the feed only once every rename succeeded.

mod config;
mod error;
mod known_hosts;
mod session;
mod upload;

use std::path::PathBuf;
use std::time::Duration;

pub use config::SftpDestination;
pub use error::SftpError;

use self::session::Session;
use self::upload::Replaced;
use super::retry::RetryPolicy;
use super::{Delivery, NetRuntime, PushError, Transport};
use crate::feed::Feed;
use crate::report::progress::Progress;

pub struct SftpTransport {
    config: SftpDestination,
    net: tokio::runtime::Handle,
    progress: bool,
}

impl SftpTransport {
    pub fn new(config: SftpDestination, net: &NetRuntime) -> SftpTransport {
        SftpTransport {
            config,
            net: net.handle().clone(),
            progress: net.shows_progress(),
        }
    }

    fn fail(&self, feed: &Feed) -> impl FnOnce(SftpError) -> PushError {
        let feed = feed.id.clone();
        let target = self.config.url();
        move |source| PushError::Sftp {
            feed,
            target,
            source: Box::new(source),
        }
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.config.retries,
            ..RetryPolicy::default()
        }
    }

    /// Runs `attempt` with retries, all of it within `limit`.
    fn run<T, Fut>(&self, limit: Duration, attempt: impl FnMut() -> Fut) -> Result<T, SftpError>
    where
        Fut: Future<Output = Result<T, SftpError>>,
    {
        let target = self.config.url();
        let policy = self.policy();
        let retried = policy.run(attempt, |err: &SftpError, wait| {
            eprintln!(
                "warning: {target}: {err}\n  retrying in {:.1} s",
                wait.as_secs_f64()
            );
        });
        self.net.block_on(async {
            tokio::time::timeout(limit, retried)
                .await
                .unwrap_or(Err(SftpError::Timeout {
                    secs: limit.as_secs(),
                }))
        })
    }

    /// One attempt at the delivery: every part under a temporary name, then the renames.
    async fn attempt(
        &self,
        files: &[PathBuf],
        remote_names: &[String],
        single: &str,
        progress: &Progress,
    ) -> Result<Vec<Replaced>, SftpError> {
        let session = Session::open(&self.config).await?;
        let folder = self.config.remote_folder();
        upload::remove_leftovers(&session, folder, remote_names).await?;
        progress.set(0);
        let mut sent = 0;
        let mut temps = Vec::with_capacity(files.len());
        for (local, name) in files.iter().zip(remote_names) {
            let final_path = self.config.remote_path(name);
            let temp = upload::temp_path(&final_path);
            upload::upload(&session, local, &temp, progress, &mut sent).await?;
            temps.push((temp, final_path));
        }
        let mut how = Vec::with_capacity(temps.len());
        for (temp, final_path) in &temps {
            how.push(upload::replace(&session, temp, final_path).await?);
        }
        upload::remove_stale_parts(&session, folder, single, remote_names).await?;
        session.close().await;
        Ok(how)
    }

    /// The remote name of `feed` when it is one file.
    fn single_name(&self, feed: &Feed) -> String {
        match &self.config.remote_file {
            Some(name) => name.clone(),
            None => format!(
                "{}.{}{}",
                feed.file_stem,
                feed.format.extension,
                if feed.gzip { ".gz" } else { "" }
            ),
        }
    }

    /// The remote paths a delivery of `feed` in one part or the first of several would
    /// have written, with and without `.gz`.
    fn first_names(&self, feed: &Feed) -> Vec<String> {
        let extension = &feed.format.extension;
        let mut single = match &self.config.remote_file {
            Some(name) => vec![name.clone()],
            None => vec![format!("{}.{extension}", feed.file_stem)],
        };
        if self.config.remote_file.is_none() {
            single.push(format!("{}.{extension}.gz", feed.file_stem));
        }
        let parts: Vec<String> = single.iter().map(|n| config::numbered(n, 1)).collect();
        single
            .into_iter()
            .chain(parts)
            .map(|name| self.config.remote_path(&name))
            .collect()
    }
}

impl Transport for SftpTransport {
    fn target(&self) -> String {
        self.config.url()
    }

    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError> {
        let local_names: Vec<String> = files
            .iter()
            .map(|f| {
                f.file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default()
            })
            .collect();
        let remote_names = self.config.remote_names(&local_names);
        let mut bytes = 0;
        for file in files {
            bytes += std::fs::metadata(file)
                .map_err(|source| PushError::Io {
                    feed: feed.id.clone(),
                    path: file.clone(),
                    source,
                })?
                .len();
        }
        let single = self.single_name(feed);
        let progress = Progress::new(self.progress);
        progress.start("upload", bytes);
        let result = self.run(self.config.timeout(), || {
            self.attempt(files, &remote_names, &single, &progress)
        });
        progress.finish();
        let how = result.map_err(self.fail(feed))?;
        for (name, how) in remote_names.iter().zip(how) {
            if how == Replaced::DeleteThenRename {
                eprintln!(
                    "warning: feed `{}`: {} cannot rename over a file atomically (no \
                     posix-rename@openssh.com); `{name}` was deleted, then the new one renamed \
                     into place, so a reader could briefly find no file",
                    feed.id,
                    self.config.url()
                );
            }
        }
        Ok(Delivery {
            files: remote_names
                .iter()
                .map(|name| PathBuf::from(self.config.url_of(name)))
                .collect(),
            bytes,
            rejected: Vec::new(),
        })
    }

    fn holds_feed(&self, feed: &Feed) -> Result<bool, PushError> {
        let paths = self.first_names(feed);
        self.run(self.config.timeout(), || async {
            let session = Session::open(&self.config).await?;
            let mut found = false;
            for path in &paths {
                if upload::exists(&session, path).await? {
                    found = true;
                    break;
                }
            }
            session.close().await;
            Ok(found)
        })
        .map_err(self.fail(feed))
    }

    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let config = &self.config;
        self.run(self.config.timeout(), || async {
            let session = Session::open(config).await?;
            let folder = config.remote_folder();
            let attrs = session
                .sftp
                .stat(folder)
                .await
                .map_err(|source| SftpError::Remote {
                    doing: "stat",
                    path: folder.to_owned(),
                    source,
                })?
                .attrs;
            if !attrs.is_dir() {
                return Err(SftpError::NotAFolder {
                    path: folder.to_owned(),
                });
            }
            let mut lines = vec![
                format!(
                    "{}: host key {} is known in {}",
                    config.url(),
                    session.host_key,
                    config.known_hosts_file().display()
                ),
                format!(
                    "{}: logged in as `{}` by {}",
                    config.url(),
                    config.user,
                    session.login
                ),
                format!("{}: folder `{folder}` exists", config.url()),
            ];
            lines.push(if session.posix_rename {
                format!(
                    "{}: replaces files atomically (posix-rename@openssh.com)",
                    config.url()
                )
            } else {
                format!(
                    "{}: warning: no posix-rename@openssh.com; files will be replaced by delete, \
                     then rename",
                    config.url()
                )
            });
            session.close().await;
            Ok(lines)
        })
        .map_err(self.fail(feed))
    }
}
