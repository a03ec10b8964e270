//! `[destination] kind = "amazon-sp-api"`: items go to Amazon as JSON_LISTINGS_FEED
//! documents through the Selling Partner API's Feeds API 2021-06-30. Per batch of the run
//! engine: the messages are built from the channel spec (`document`), split under the
//! document limits, and each document is declared (`createFeedDocument`), uploaded with
//! the declared Content-Type, submitted (`createFeed`), polled (`getFeed`) with a growing
//! wait until Amazon is done, and its processing report fetched and read (`report`):
//! each message's issues are its item's verdict. A FATAL or CANCELLED feed leaves its
//! items not sent, so the next push sends them again.
//!
//! Every call runs on the process's one runtime, within the operation's usage plan (a run
//! needing more documents than the burst waits for the plan, it does not fail) and the
//! feed's deadline. Settings: [`AmazonSpConfig`].

mod auth;
mod config;
mod document;
mod report;
mod service;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt as _;

pub use config::{AmazonSpConfig, DEFAULT_TOKEN_URL, RateLimit, RateLimits, Region};

use self::auth::{Credentials, Tokens};
use self::document::{Document, Layout};
use self::report::Report;
use self::service::FeedsApi;
use super::items::{ItemOperation, ItemSession, ItemTransport, ItemVerdict, PlannedRequest};
use super::retry::RetryPolicy;
use super::{Delivery, PushError, Transport};
use crate::feed::Feed;
use crate::report::progress::Progress;

const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
/// Amazon processes a large listings feed in tens of minutes; several in a row take hours.
const DEFAULT_DEADLINE: Duration = Duration::from_secs(4 * 3600);
const DEFAULT_POLL_FIRST: Duration = Duration::from_secs(15);
const DEFAULT_POLL_MAX: Duration = Duration::from_secs(120);

pub struct AmazonSpTransport {
    config: AmazonSpConfig,
    runtime: tokio::runtime::Handle,
}

impl AmazonSpTransport {
    pub fn new(config: AmazonSpConfig, runtime: tokio::runtime::Handle) -> Self {
        AmazonSpTransport { config, runtime }
    }

    /// How `feed`'s messages are laid out in documents, within this destination's limits.
    fn layout(&self, feed: &Feed) -> Result<Layout, String> {
        Layout::new(
            feed,
            self.max_messages(),
            self.config
                .max_document_bytes
                .unwrap_or(config::DEFAULT_MAX_DOCUMENT_BYTES),
        )
    }

    fn max_messages(&self) -> usize {
        self.config
            .max_messages
            .unwrap_or(config::DEFAULT_MAX_MESSAGES)
    }
}

impl Transport for AmazonSpTransport {
    fn target(&self) -> String {
        format!(
            "{} (marketplaces {})",
            self.config.base_url().unwrap_or("the SP-API"),
            self.config.marketplace_ids.join(", ")
        )
    }

    fn deliver(&self, feed: &Feed, _files: &[PathBuf]) -> Result<Delivery, PushError> {
        super::items::files_refused(feed, "the SP-API destination")
    }

    fn holds_feed(&self, _feed: &Feed) -> Result<bool, PushError> {
        // UPDATE replaces a listing and a DELETE of an absent SKU is harmless, so a lost
        // state costs a full re-send, never a wrong listing.
        Ok(false)
    }

    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        self.connect(feed)?;
        Ok(vec![format!(
            "{}: Login with Amazon issued an access token",
            Transport::target(self)
        )])
    }

    fn items(&self) -> Option<&dyn ItemTransport> {
        Some(self)
    }
}

impl ItemTransport for AmazonSpTransport {
    fn target(&self) -> String {
        Transport::target(self)
    }

    fn hold_back_after(&self) -> u32 {
        self.config
            .hold_back_after
            .unwrap_or(super::items::DEFAULT_HOLD_BACK_AFTER)
    }

    /// One document's worth per batch: the engine records each batch as soon as Amazon has
    /// reported on it, and documents are large so that few feeds are spent.
    fn batch_size(&self) -> usize {
        self.max_messages()
    }

    /// The message the item becomes in a JSON_LISTINGS_FEED document, shown against the
    /// `createFeed` call that submits the document: Amazon takes items only by document.
    fn preview(
        &self,
        feed: &Feed,
        operation: &ItemOperation,
    ) -> Result<Result<PlannedRequest, String>, PushError> {
        let config_error = |message: String| PushError::Destination {
            feed: feed.id.clone(),
            message,
        };
        let layout = self.layout(feed).map_err(config_error)?;
        let base = self
            .config
            .base_url()
            .ok_or_else(|| config_error("set region or endpoint".to_owned()))?;
        Ok(Ok(PlannedRequest {
            method: "POST".to_owned(),
            url: format!("{base}/feeds/2021-06-30/feeds"),
            body: Some(layout.unnumbered_message(feed, operation)),
        }))
    }

    fn open<'a>(
        &'a self,
        feed: &'a Feed,
        total: u64,
        progress: &'a Progress,
    ) -> Result<Box<dyn ItemSession + 'a>, PushError> {
        let config_error = |message: String| PushError::Destination {
            feed: feed.id.clone(),
            message,
        };
        let api = feed.spec.api.clone().unwrap_or_default();
        let (Some(feed_type), Some(content_type)) = (api.feed_type, api.document_content_type)
        else {
            return Err(config_error(format!(
                "the channel `{}` has no [api] feed_type and document_content_type",
                feed.spec.id
            )));
        };
        let layout = self.layout(feed).map_err(config_error)?;
        let api = self.connect(feed)?;
        let deadline_after = self
            .config
            .deadline_seconds
            .map_or(DEFAULT_DEADLINE, Duration::from_secs);
        progress.start_items("items", total);
        Ok(Box::new(Session {
            runtime: &self.runtime,
            feed,
            api: Arc::new(api),
            layout,
            feed_type,
            content_type,
            marketplace_ids: &self.config.marketplace_ids,
            poll_first: self
                .config
                .poll_interval_ms
                .map_or(DEFAULT_POLL_FIRST, Duration::from_millis),
            poll_max: self
                .config
                .poll_max_seconds
                .map_or(DEFAULT_POLL_MAX, Duration::from_secs),
            deadline: tokio::time::Instant::now() + deadline_after,
            deadline_after,
            fatal: OnceLock::new(),
            progress,
        }))
    }
}

impl AmazonSpTransport {
    /// The Feeds API client for `feed`, with a first access token: refused credentials
    /// stop the feed before anything is sent.
    fn connect(&self, feed: &Feed) -> Result<FeedsApi, PushError> {
        let config_error = |message: String| PushError::Destination {
            feed: feed.id.clone(),
            message,
        };
        let base = self
            .config
            .base_url()
            .ok_or_else(|| config_error("set region or endpoint".to_owned()))?;
        let base = crate::push::endpoint::checked_url(base)
            .map_err(|why| config_error(format!("endpoint: {why}")))?;
        let token_url = self
            .config
            .token_url
            .clone()
            .unwrap_or_else(|| DEFAULT_TOKEN_URL.to_owned());
        let secret = |key: &Option<String>, default: &str, what: &'static str| {
            super::secret::from_env(key.as_deref().unwrap_or(default), what).map_err(|source| {
                PushError::Secret {
                    feed: feed.id.clone(),
                    source,
                }
            })
        };
        let credentials = Credentials {
            client_id: secret(
                &self.config.client_id_env,
                config::DEFAULT_CLIENT_ID_ENV,
                "LWA client id",
            )?,
            client_secret: secret(
                &self.config.client_secret_env,
                config::DEFAULT_CLIENT_SECRET_ENV,
                "LWA client secret",
            )?,
            refresh_token: secret(
                &self.config.refresh_token_env,
                config::DEFAULT_REFRESH_TOKEN_ENV,
                "SP-API refresh token",
            )?,
            token_url,
        };
        let timeout = self
            .config
            .request_timeout_seconds
            .map_or(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs);
        let _entered = self.runtime.enter();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("omnifeed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| config_error(format!("cannot build the HTTP client: {err}")))?;
        let retry = RetryPolicy::with_retries(self.config.retries);
        let api = FeedsApi::new(
            client.clone(),
            Tokens::new(credentials, client),
            base.as_str().trim_end_matches('/').to_owned(),
            retry,
            &self.config.rate_limits,
        );
        self.runtime
            .block_on(api.tokens.get(None))
            .map_err(|err| PushError::Remote {
                feed: feed.id.clone(),
                message: format!("{}: {}", Transport::target(self), err.message),
            })?;
        Ok(api)
    }
}

struct Session<'a> {
    runtime: &'a tokio::runtime::Handle,
    feed: &'a Feed,
    api: Arc<FeedsApi>,
    layout: Layout,
    feed_type: String,
    content_type: String,
    marketplace_ids: &'a [String],
    poll_first: Duration,
    poll_max: Duration,
    deadline: tokio::time::Instant,
    deadline_after: Duration,
    /// Set by the first failure no document can get past; later documents are not sent.
    fatal: OnceLock<String>,
    progress: &'a Progress,
}

impl ItemSession for Session<'_> {
    fn send(&mut self, batch: &[ItemOperation]) -> Result<Vec<ItemVerdict>, PushError> {
        let documents = self.layout.documents(self.feed, batch);
        let mut verdicts: Vec<Option<ItemVerdict>> = vec![None; batch.len()];
        let this = &*self;
        let answered = self.runtime.block_on(async {
            // Documents of one batch are processed side by side; the usage plans pace them.
            let count = documents.len().max(1);
            futures::stream::iter(documents)
                .map(|document| async move {
                    let answers = this.deliver(&document).await;
                    this.progress.advance(document.operations.len() as u64);
                    (document.operations, answers)
                })
                .buffer_unordered(count)
                .collect::<Vec<_>>()
                .await
        });
        for (operations, answers) in answered {
            for (index, verdict) in operations.into_iter().zip(answers) {
                verdicts[index] = Some(verdict);
            }
        }
        Ok(verdicts
            .into_iter()
            .map(|verdict| {
                verdict.unwrap_or_else(|| {
                    ItemVerdict::NotSent("no processing report covered it".to_owned())
                })
            })
            .collect())
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.progress.finish();
    }
}

impl Session<'_> {
    /// One verdict per message of `document`.
    async fn deliver(&self, document: &Document) -> Vec<ItemVerdict> {
        let all = |verdict: ItemVerdict| vec![verdict; document.operations.len()];
        if let Some(fatal) = self.fatal.get() {
            return all(ItemVerdict::NotSent(fatal.clone()));
        }
        match tokio::time::timeout_at(self.deadline, self.submit(document)).await {
            Err(_) => all(ItemVerdict::NotSent(format!(
                "the feed's deadline ({} s, deadline_seconds) passed",
                self.deadline_after.as_secs()
            ))),
            // Warnings travel with their verdicts to the push's report.
            Ok(Ok(report)) => report.verdicts(document.operations.len()),
            Ok(Err(failure)) => {
                let message = match failure.fatal {
                    true => self.fatal.get_or_init(|| failure.message.clone()).clone(),
                    false => failure.message,
                };
                all(ItemVerdict::NotSent(message))
            }
        }
    }

    /// Uploads, submits and follows one document to its processing report.
    async fn submit(&self, document: &Document) -> Result<Report, Stop> {
        let api = &self.api;
        let document_id = api
            .upload_document(&self.content_type, &document.bytes)
            .await
            .map_err(Stop::from)?;
        let feed_id = api
            .create_feed(&self.feed_type, self.marketplace_ids, &document_id)
            .await
            .map_err(Stop::from)?;
        let mut wait = self.poll_first;
        let status = loop {
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(self.poll_max);
            let status = api.feed_status(&feed_id).await.map_err(Stop::from)?;
            match status.processing_status.as_str() {
                "DONE" | "FATAL" | "CANCELLED" => break status,
                _ => {}
            }
        };
        let report = match &status.result_feed_document_id {
            Some(id) => Some(
                api.download_document(id)
                    .await
                    .map_err(Stop::from)
                    .and_then(|bytes| Report::parse(&bytes).map_err(Stop::retry))?,
            ),
            None => None,
        };
        match (status.processing_status.as_str(), report) {
            ("DONE", Some(report)) => Ok(report),
            ("DONE", None) => Err(Stop::retry(format!(
                "feed {feed_id} is DONE without a processing report"
            ))),
            (outcome, report) => {
                let why = report
                    .map(|report| report.feed_errors().join("; "))
                    .filter(|why| !why.is_empty())
                    .map_or_else(String::new, |why| format!(": {why}"));
                Err(Stop::retry(format!(
                    "Amazon ended feed {feed_id} as {outcome}{why}; nothing in it was applied"
                )))
            }
        }
    }
}

/// Why a document got no report: `fatal` stops the documents after it too.
struct Stop {
    message: String,
    fatal: bool,
}

impl Stop {
    fn retry(message: String) -> Stop {
        Stop {
            message,
            fatal: false,
        }
    }
}

impl From<service::Failure> for Stop {
    fn from(failure: service::Failure) -> Stop {
        Stop {
            fatal: failure.is_fatal(),
            message: failure.message,
        }
    }
}
