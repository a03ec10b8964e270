//! `[destination] kind = "object-store"`: feed files published as objects in a bucket or
//! container, where channels that fetch on a schedule (Meta, Pinterest, TikTok, Google's
//! scheduled fetch) read them.
//!
//! What a fetching channel can observe: each object is replaced atomically, so one file is
//! always wholly the old or wholly the new version. A feed in several parts is uploaded
//! part by part (`-0001` first); a fetch during the push may find new early parts beside
//! old later ones, since a bucket has no multi-object switch. Parts the new feed no longer
//! has are deleted only after every new part is in place, so a fetch never finds a part
//! missing. An upload that fails leaves the object it would have replaced untouched and is
//! reported (exit 3); the state records nothing for the feed.

mod aws_profile;
mod config;
mod upload;

use std::path::PathBuf;

pub use config::ObjectStoreDestination;
use config::OpenStore;
use object_store::ObjectStoreExt;

use super::content_type::content_type;
use super::retry::RetryPolicy;
use super::{Delivery, NetRuntime, PushError, Transport};
use crate::feed::Feed;
use crate::report::progress::Progress;
use crate::serialize::file_set::FeedFiles;

pub struct ObjectStoreTransport {
    settings: ObjectStoreDestination,
    runtime: tokio::runtime::Handle,
    progress: Progress,
    retries: RetryPolicy,
}

impl ObjectStoreTransport {
    pub fn new(settings: ObjectStoreDestination, net: &NetRuntime) -> ObjectStoreTransport {
        ObjectStoreTransport {
            settings,
            runtime: net.handle().clone(),
            progress: net.progress(),
            retries: RetryPolicy::default(),
        }
    }

    fn open(&self, feed: &Feed) -> Result<OpenStore, PushError> {
        // Building an S3 client reads the environment and may spawn nothing, but the GCS
        // and Azure builders expect a runtime around them.
        let _guard = self.runtime.enter();
        self.settings
            .open(&self.retries)
            .map_err(|message| PushError::Destination {
                feed: feed.id.clone(),
                message: format!("url = {:?}: {message}", self.settings.url),
            })
    }

    fn remote_error(&self, feed: &Feed, what: String, err: &object_store::Error) -> PushError {
        PushError::Remote {
            feed: feed.id.clone(),
            message: format!("{what}: {}\n  hint: {}", super::error_chain(err), hint(err)),
        }
    }

    /// Deletes the objects of earlier pushes of `feed` that are not among `kept` (a part
    /// count that shrank, a switch between one file and parts). A failure here loses
    /// nothing, the new files being in place, so it is a warning.
    async fn remove_stale(&self, feed: &Feed, open: &OpenStore, kept: &[String]) {
        let names = FeedFiles::new(
            std::path::Path::new(""),
            &feed.file_stem,
            &feed.format.extension,
            feed.gzip,
        );
        let prefix = (!open.prefix.as_ref().is_empty()).then_some(&open.prefix);
        let listed = match open.store.list_with_delimiter(prefix).await {
            Ok(listed) => listed,
            Err(err) => {
                eprintln!(
                    "warning: feed `{}`: cannot list {} to remove parts of an earlier push ({err}); \
                     old parts may remain",
                    feed.id, open.display
                );
                return;
            }
        };
        for object in listed.objects {
            let Some(name) = object.location.filename() else {
                continue;
            };
            if names.is_output_name(name)
                && !kept.iter().any(|k| k == name)
                && let Err(err) = open.store.delete(&object.location).await
            {
                eprintln!(
                    "warning: feed `{}`: cannot delete the stale {} ({err})",
                    feed.id,
                    open.url_of(name)
                );
            }
        }
    }
}

impl Transport for ObjectStoreTransport {
    fn target(&self) -> String {
        self.settings.url.clone()
    }

    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError> {
        let open = self.open(feed)?;
        let mut names = Vec::with_capacity(files.len());
        let mut total = 0;
        for staged in files {
            let io_err = |source| PushError::Io {
                feed: feed.id.clone(),
                path: staged.clone(),
                source,
            };
            total += std::fs::metadata(staged).map_err(io_err)?.len();
            let name = staged.file_name().and_then(|n| n.to_str()).ok_or_else(|| {
                PushError::Destination {
                    feed: feed.id.clone(),
                    message: format!("`{}` has no UTF-8 file name", staged.display()),
                }
            })?;
            names.push(name.to_owned());
        }
        let content_type = content_type(feed);
        self.progress.start("upload", total);
        let result = self.runtime.block_on(async {
            let mut delivery = Delivery::default();
            for (staged, name) in files.iter().zip(&names) {
                let url = open.url_of(name);
                let sent = upload::upload(
                    open.store.as_ref(),
                    staged,
                    &open.object(name),
                    content_type,
                    &self.progress,
                    delivery.bytes,
                )
                .await
                .map_err(|err| match err {
                    upload::UploadError::Read(source) => PushError::Io {
                        feed: feed.id.clone(),
                        path: staged.clone(),
                        source,
                    },
                    upload::UploadError::Store(err) => self.remote_error(
                        feed,
                        format!(
                            "cannot upload `{name}` to {url} (the object there, if any, is \
                             unchanged)"
                        ),
                        &err,
                    ),
                })?;
                delivery.bytes += sent;
                delivery.files.push(PathBuf::from(url));
            }
            self.remove_stale(feed, &open, &names).await;
            Ok(delivery)
        });
        self.progress.finish();
        result
    }

    fn holds_feed(&self, feed: &Feed) -> Result<bool, PushError> {
        let open = self.open(feed)?;
        let (stem, extension) = (&feed.file_stem, &feed.format.extension);
        self.runtime.block_on(async {
            for name in [
                format!("{stem}.{extension}"),
                format!("{stem}-0001.{extension}"),
            ] {
                for name in [name.clone(), format!("{name}.gz")] {
                    match open.store.head(&open.object(&name)).await {
                        Ok(_) => return Ok(true),
                        Err(object_store::Error::NotFound { .. }) => {}
                        Err(err) => {
                            return Err(self.remote_error(
                                feed,
                                format!("cannot look for {}", open.url_of(&name)),
                                &err,
                            ));
                        }
                    }
                }
            }
            Ok(false)
        })
    }

    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let open = self.open(feed)?;
        let prefix = (!open.prefix.as_ref().is_empty()).then_some(&open.prefix);
        let listed = self
            .runtime
            .block_on(open.store.list_with_delimiter(prefix))
            .map_err(|err| {
                self.remote_error(feed, format!("cannot list {}", open.display), &err)
            })?;
        Ok(vec![format!(
            "{}: credentials accepted, {} objects listed (nothing written)",
            open.display,
            listed.objects.len()
        )])
    }
}

/// What to do about a store's refusal.
fn hint(err: &object_store::Error) -> &'static str {
    match err {
        object_store::Error::PermissionDenied { .. }
        | object_store::Error::Unauthenticated { .. } => {
            "the store refused the credentials: check the provider's variables (for S3 \
             AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or AWS_PROFILE) and that they may \
             write to the bucket"
        }
        object_store::Error::NotFound { .. } => {
            "check that the bucket or container in `url` exists"
        }
        _ => {
            "check the credentials, `url` and `endpoint`; network errors, timeouts and \
              5xx answers were already retried with backoff"
        }
    }
}
