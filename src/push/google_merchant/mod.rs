//! `[destination] kind = "google-merchant-api"`: items go one by one to the Google Merchant
//! API v1. Added, changed and refresh-due products are `productInputs:insert`ed (an insert
//! replaces the product input with the same offer id), removed ones deleted; a per-store
//! channel (local inventory) inserts and deletes `localInventories` of the product instead.
//! Where each field goes in the request body is the channel spec's `api` (see
//! [`crate::push::api_body`]).
//!
//! Requests run on the process's one runtime, at most `concurrency` at once and within the
//! rate limits, each retried on 429 (honouring Retry-After), 5xx, timeouts and resets, all
//! within the feed's deadline. Settings: [`GoogleMerchantConfig`].

mod auth;
mod config;
pub mod names;
mod request_builder;
mod service;

use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use futures::StreamExt as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

pub use config::{DEFAULT_ENDPOINT, GoogleMerchantConfig};

use self::auth::{ServiceAccount, Tokens};
use self::request_builder::Requests;
use self::service::{Answer, attempt};
use super::items::{ItemOperation, ItemSession, ItemTransport, ItemVerdict, PlannedRequest};
use super::retry::RetryPolicy;
use super::{Delivery, PushError, Transport};
use crate::feed::Feed;
use crate::report::progress::Progress;

/// Defaults where neither the destination nor the spec's `[api]` says.
const DEFAULT_CONCURRENCY: usize = 32;
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const DEFAULT_DEADLINE: Duration = Duration::from_secs(3600);

/// The environment variable that names the key file when `credentials_file` is not set.
pub const CREDENTIALS_VAR: &str = "GOOGLE_APPLICATION_CREDENTIALS";

pub struct GoogleMerchantTransport {
    config: GoogleMerchantConfig,
    runtime: tokio::runtime::Handle,
}

impl GoogleMerchantTransport {
    pub fn new(config: GoogleMerchantConfig, runtime: tokio::runtime::Handle) -> Self {
        GoogleMerchantTransport { config, runtime }
    }

    fn endpoint(&self) -> &str {
        self.config
            .endpoint
            .as_deref()
            .unwrap_or(DEFAULT_ENDPOINT)
            .trim_end_matches('/')
    }

    /// How `feed`'s operations become requests: checked settings, no credentials.
    fn requests<'a>(&self, feed: &'a Feed) -> Result<Requests<'a>, PushError> {
        let config_error = |message: String| PushError::Destination {
            feed: feed.id.clone(),
            message,
        };
        let language = feed.language.clone().ok_or_else(|| {
            config_error(
                "the Merchant API needs the content language: set language in the feed or \
                 [defaults] language"
                    .to_owned(),
            )
        })?;
        let feed_label = match (&self.config.feed_label, &feed.country) {
            (Some(label), _) => label.clone(),
            (None, Some(country)) => country.to_ascii_uppercase(),
            (None, None) => {
                return Err(config_error(
                    "set feed_label in [destination], or a country for the feed".to_owned(),
                ));
            }
        };
        let endpoint = crate::push::endpoint::checked_url(self.endpoint())
            .map_err(|why| config_error(format!("endpoint: {why}")))?;
        Ok(Requests {
            feed,
            base: endpoint.as_str().trim_end_matches('/').to_owned(),
            account: self.config.account.clone(),
            data_source: format!(
                "accounts/{}/dataSources/{}",
                self.config.account, self.config.data_source
            ),
            language,
            feed_label,
        })
    }
}

impl Transport for GoogleMerchantTransport {
    fn target(&self) -> String {
        format!(
            "{}/ (account {}, data source {})",
            self.endpoint(),
            self.config.account,
            self.config.data_source
        )
    }

    fn deliver(&self, feed: &Feed, _files: &[PathBuf]) -> Result<Delivery, PushError> {
        super::items::files_refused(feed, "the Merchant API")
    }

    fn holds_feed(&self, _feed: &Feed) -> Result<bool, PushError> {
        // Inserts replace and deletes of absent items succeed, so a lost state only costs a
        // full re-send, never a wrong channel state.
        Ok(false)
    }

    fn items(&self) -> Option<&dyn ItemTransport> {
        Some(self)
    }
}

impl ItemTransport for GoogleMerchantTransport {
    fn target(&self) -> String {
        Transport::target(self)
    }

    fn hold_back_after(&self) -> u32 {
        self.config
            .hold_back_after
            .unwrap_or(super::items::DEFAULT_HOLD_BACK_AFTER)
    }

    fn preview(
        &self,
        feed: &Feed,
        operation: &ItemOperation,
    ) -> Result<Result<PlannedRequest, String>, PushError> {
        Ok(self
            .requests(feed)?
            .request(operation)
            .map(|request| PlannedRequest {
                method: request.method.to_string(),
                url: request.url.to_string(),
                body: request.body,
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
        let requests = self.requests(feed)?;
        let key_path = match &self.config.credentials_file {
            Some(path) => path.clone(),
            None => {
                match super::secret::from_env_if_set(CREDENTIALS_VAR, "service-account key file") {
                    Ok(Some(path)) => PathBuf::from(path.expose()),
                    Ok(None) => {
                        return Err(config_error(format!(
                            "no service-account key: set credentials_file in [destination] or \
                         export {CREDENTIALS_VAR}=/path/to/key.json"
                        )));
                    }
                    Err(source) => {
                        return Err(PushError::Secret {
                            feed: feed.id.clone(),
                            source,
                        });
                    }
                }
            }
        };
        let account = ServiceAccount::from_file(&key_path, self.config.token_url.as_deref())
            .map_err(config_error)?;
        let timeout = self
            .config
            .request_timeout_seconds
            .map_or(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs);
        let spec_api = feed.spec.api.clone().unwrap_or_default();
        let concurrency = self
            .config
            .concurrency
            .or(spec_api.concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY);
        let _entered = self.runtime.enter();
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(concurrency)
            .user_agent(concat!("omnifeed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| config_error(format!("cannot build the HTTP client: {err}")))?;
        let tokens = Tokens::new(account, client.clone());
        let deadline_after = self
            .config
            .deadline_seconds
            .map_or(DEFAULT_DEADLINE, Duration::from_secs);
        let limit = |n: Option<u32>, quota: fn(NonZeroU32) -> Quota| {
            n.and_then(NonZeroU32::new)
                .map(|n| RateLimiter::direct(quota(n)))
        };
        let session = Session {
            runtime: &self.runtime,
            requests,
            shared: Arc::new(Shared {
                client,
                tokens,
                per_second: limit(
                    self.config
                        .requests_per_second
                        .or(spec_api.requests_per_second),
                    Quota::per_second,
                ),
                per_minute: limit(
                    self.config
                        .requests_per_minute
                        .or(spec_api.requests_per_minute),
                    Quota::per_minute,
                ),
                retry: RetryPolicy::with_retries(self.config.retries),
                fatal: OnceLock::new(),
            }),
            concurrency,
            deadline: tokio::time::Instant::now() + deadline_after,
            deadline_after,
            progress,
        };
        // The first token now: refused credentials stop the feed before any item is sent.
        let shared = Arc::clone(&session.shared);
        self.runtime
            .block_on(async { shared.tokens.get(None).await })
            .map_err(|err| PushError::Remote {
                feed: feed.id.clone(),
                message: format!("{}: {}", Transport::target(self), err.message),
            })?;
        progress.start_items("items", total);
        Ok(Box::new(session))
    }
}

/// What every request of a session shares.
struct Shared {
    client: reqwest::Client,
    tokens: Tokens,
    per_second: Option<DefaultDirectRateLimiter>,
    per_minute: Option<DefaultDirectRateLimiter>,
    retry: RetryPolicy,
    /// Set by the first failure no item can get past; later items are not sent.
    fatal: OnceLock<String>,
}

struct Session<'a> {
    runtime: &'a tokio::runtime::Handle,
    requests: Requests<'a>,
    shared: Arc<Shared>,
    concurrency: usize,
    deadline: tokio::time::Instant,
    deadline_after: Duration,
    progress: &'a Progress,
}

impl ItemSession for Session<'_> {
    fn send(&mut self, batch: &[ItemOperation]) -> Result<Vec<ItemVerdict>, PushError> {
        let this = &*self;
        let verdicts = self.runtime.block_on(async {
            futures::stream::iter(batch)
                .map(|operation| async move {
                    let verdict = this.one(operation).await;
                    this.progress.advance(1);
                    verdict
                })
                .buffered(this.concurrency)
                .collect::<Vec<_>>()
                .await
        });
        Ok(verdicts)
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.progress.finish();
    }
}

impl Session<'_> {
    async fn one(&self, operation: &ItemOperation) -> ItemVerdict {
        let shared = &self.shared;
        if let Some(fatal) = shared.fatal.get() {
            return ItemVerdict::NotSent(fatal.clone());
        }
        let request = match self.requests.request(operation) {
            Ok(request) => request,
            Err(why) => return ItemVerdict::Rejected(why),
        };
        let deadline_passed = || {
            ItemVerdict::NotSent(format!(
                "the feed's deadline ({} s, deadline_seconds) passed",
                self.deadline_after.as_secs()
            ))
        };
        let sent = tokio::time::timeout_at(
            self.deadline,
            shared.retry.run(
                || async {
                    if let Some(limiter) = &shared.per_minute {
                        limiter.until_ready().await;
                    }
                    if let Some(limiter) = &shared.per_second {
                        limiter.until_ready().await;
                    }
                    attempt(&shared.client, &shared.tokens, &request).await
                },
                |_, _| {},
            ),
        )
        .await;
        match sent {
            Err(_) => deadline_passed(),
            Ok(Ok(Answer::Accepted)) => ItemVerdict::Accepted,
            Ok(Ok(Answer::Rejected(reason))) => ItemVerdict::Rejected(reason),
            Ok(Err(failure)) if failure.is_fatal() => {
                let message = shared.fatal.get_or_init(|| failure.message.clone());
                ItemVerdict::NotSent(message.clone())
            }
            Ok(Err(failure)) => ItemVerdict::NotSent(format!(
                "{} (after {} retries)",
                failure.message, shared.retry.retries
            )),
        }
    }
}
