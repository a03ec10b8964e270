//! `[destination] kind = "meta-catalog-api"`: items go to a Meta catalog through the Graph
//! API's Catalog Batch API. Added, changed and refresh-due items are `UPDATE`d with
//! `allow_upsert` (created when missing), removed ones `DELETE`d, up to `batch_size`
//! requests per `POST /{version}/{catalog_id}/items_batch`. Each item's verdict comes from
//! the call's `validation_status` (errors: rejected, not ingested) and then from
//! `check_batch_request_status`, polled per handle with a growing wait until Meta has
//! processed the batch (errors: rejected; warnings: accepted, listed in the push's report).
//!
//! Where each field goes in `data` is the channel spec's `api` (see
//! [`crate::push::api_body`]). Calls run on the process's one runtime, at most
//! `concurrency` at once and within the rate limits, each retried on 429, 5xx, Graph
//! throttling codes, timeouts and resets, all within the feed's deadline. Settings:
//! [`MetaCatalogConfig`].

mod auth;
mod config;
mod request;
mod service;

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use futures::StreamExt as _;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

pub use config::{DEFAULT_API_VERSION, DEFAULT_ENDPOINT, MetaCatalogConfig};

use self::auth::Credentials;
use self::request::Entry;
use self::service::{Failure, Progress as BatchProgress};
use super::items::{ItemOperation, ItemSession, ItemTransport, ItemVerdict, PlannedRequest};
use super::retry::RetryPolicy;
use super::{Delivery, PushError, Transport};
use crate::feed::Feed;
use crate::report::progress::Progress;

/// Defaults where neither the destination nor the spec's `[api]` says.
const DEFAULT_CONCURRENCY: usize = 2;
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(120);
const DEFAULT_DEADLINE: Duration = Duration::from_secs(3600);
const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(1);
const MAX_POLL_INTERVAL: Duration = Duration::from_secs(30);
/// Warnings shown one by one; the rest are counted.
const WARNINGS_SHOWN: usize = 20;

pub struct MetaCatalogTransport {
    config: MetaCatalogConfig,
    runtime: tokio::runtime::Handle,
}

impl MetaCatalogTransport {
    pub fn new(config: MetaCatalogConfig, runtime: tokio::runtime::Handle) -> Self {
        MetaCatalogTransport { config, runtime }
    }

    fn credentials(&self, feed: &Feed) -> Result<Credentials, PushError> {
        Credentials::from_env(self.config.token_env(), self.config.app_secret_env()).map_err(
            |source| PushError::Secret {
                feed: feed.id.clone(),
                source,
            },
        )
    }

    fn client(&self, feed: &Feed, connections: usize) -> Result<reqwest::Client, PushError> {
        let timeout = self
            .config
            .request_timeout_seconds
            .map_or(DEFAULT_REQUEST_TIMEOUT, Duration::from_secs);
        let _entered = self.runtime.enter();
        reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .pool_max_idle_per_host(connections)
            .user_agent(concat!("omnifeed/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|err| PushError::Destination {
                feed: feed.id.clone(),
                message: format!("cannot build the HTTP client: {err}"),
            })
    }

    /// `{endpoint}/{version}/{catalog_id}/{edge}`.
    fn url(&self, feed: &Feed, edge: &str) -> Result<url::Url, PushError> {
        let base = crate::push::endpoint::checked_url(self.config.endpoint()).map_err(|why| {
            PushError::Destination {
                feed: feed.id.clone(),
                message: format!("endpoint: {why}"),
            }
        })?;
        let path = match edge {
            "" => format!("{}/{}", self.config.api_version(), self.config.catalog_id),
            edge => format!(
                "{}/{}/{edge}",
                self.config.api_version(),
                self.config.catalog_id
            ),
        };
        let mut url = base;
        url.path_segments_mut()
            .map_err(|()| PushError::Destination {
                feed: feed.id.clone(),
                message: "endpoint cannot take a path".to_owned(),
            })?
            .pop_if_empty()
            .extend(path.split('/'));
        Ok(url)
    }
}

impl Transport for MetaCatalogTransport {
    fn target(&self) -> String {
        format!(
            "{}/{} (catalog {})",
            self.config.endpoint(),
            self.config.api_version(),
            self.config.catalog_id
        )
    }

    fn deliver(&self, feed: &Feed, _files: &[PathBuf]) -> Result<Delivery, PushError> {
        super::items::files_refused(feed, "the Meta catalog API")
    }

    fn holds_feed(&self, _feed: &Feed) -> Result<bool, PushError> {
        // Upserts replace and deletes of absent items succeed, so a lost state only costs
        // a full re-send, never a wrong catalog.
        Ok(false)
    }

    /// Reads the catalog with the token (and proof): a token Meta refuses, a catalog the
    /// system user cannot see or a wrong app secret show here.
    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let credentials = self.credentials(feed)?;
        let client = self.client(feed, 1)?;
        let mut url = self.url(feed, "")?;
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("fields", "id,name,product_count");
            for (name, value) in credentials.pairs() {
                query.append_pair(name, value);
            }
        }
        let catalog = self
            .runtime
            .block_on(service::get_object(&client, &url))
            .map_err(|failure| PushError::Remote {
                feed: feed.id.clone(),
                message: format!("{}: {}", Transport::target(self), failure.message),
            })?;
        let name = catalog["name"].as_str().unwrap_or("(no name)");
        let count = catalog["product_count"]
            .as_u64()
            .map_or_else(String::new, |n| format!(", {n} items"));
        Ok(vec![format!(
            "{}: catalog `{name}`{count}: the token is accepted{}",
            Transport::target(self),
            if credentials.proof.is_some() {
                " with appsecret_proof"
            } else {
                ""
            }
        )])
    }

    fn items(&self) -> Option<&dyn ItemTransport> {
        Some(self)
    }
}

impl ItemTransport for MetaCatalogTransport {
    fn target(&self) -> String {
        Transport::target(self)
    }

    fn hold_back_after(&self) -> u32 {
        self.config
            .hold_back_after
            .unwrap_or(super::items::DEFAULT_HOLD_BACK_AFTER)
    }

    /// Whole `items_batch` calls for every connection: an engine batch of any other size
    /// ends in a short call, which costs a request against Meta's rate limit.
    fn batch_size(&self) -> usize {
        self.config.batch_size()
            * self
                .config
                .concurrency
                .unwrap_or(DEFAULT_CONCURRENCY)
                .max(1)
    }

    /// The item's `{method, data}` request, against the `items_batch` call that carries it
    /// (the token and proof, added when sending, are not shown).
    fn preview(
        &self,
        feed: &Feed,
        operation: &ItemOperation,
    ) -> Result<Result<PlannedRequest, String>, PushError> {
        let url = self.url(feed, "items_batch")?;
        Ok(request::entry(&feed.spec, 0, operation).and_then(|entry| {
            let body = serde_json::from_str(&entry.json).map_err(|err| {
                format!("the request is not JSON (a bug; please report it): {err}")
            })?;
            Ok(PlannedRequest {
                method: "POST".to_owned(),
                url: url.to_string(),
                body: Some(body),
            })
        }))
    }

    fn open<'a>(
        &'a self,
        feed: &'a Feed,
        total: u64,
        progress: &'a Progress,
    ) -> Result<Box<dyn ItemSession + 'a>, PushError> {
        let credentials = self.credentials(feed)?;
        let spec_api = feed.spec.api.clone().unwrap_or_default();
        let concurrency = self
            .config
            .concurrency
            .or(spec_api.concurrency)
            .unwrap_or(DEFAULT_CONCURRENCY);
        let client = self.client(feed, concurrency)?;
        let batch_url = self.url(feed, "items_batch")?;
        let status_url = self.url(feed, "check_batch_request_status")?;
        let deadline_after = self
            .config
            .deadline_seconds
            .map_or(DEFAULT_DEADLINE, Duration::from_secs);
        let limit = |n: Option<u32>, quota: fn(NonZeroU32) -> Quota| {
            n.and_then(NonZeroU32::new)
                .map(|n| RateLimiter::direct(quota(n)))
        };
        let _entered = self.runtime.enter();
        let shared = Shared {
            client,
            credentials,
            batch_url,
            status_url,
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
            poll_interval: self
                .config
                .poll_interval_ms
                .map_or(DEFAULT_POLL_INTERVAL, Duration::from_millis),
            fatal: OnceLock::new(),
            warnings: Mutex::new(Vec::new()),
            deadline: tokio::time::Instant::now() + deadline_after,
            deadline_after,
        };
        progress.start_items("items", total);
        Ok(Box::new(Session {
            runtime: &self.runtime,
            feed,
            shared,
            concurrency,
            batch_size: self.config.batch_size(),
            progress,
        }))
    }
}

/// What every call of a session shares.
struct Shared {
    client: reqwest::Client,
    credentials: Credentials,
    batch_url: url::Url,
    status_url: url::Url,
    per_second: Option<DefaultDirectRateLimiter>,
    per_minute: Option<DefaultDirectRateLimiter>,
    retry: RetryPolicy,
    poll_interval: Duration,
    /// Set by the first failure no item can get past; later calls are not made.
    fatal: OnceLock<String>,
    /// `(retailer id, message)` of the warnings Meta gave that name no item it accepted,
    /// shown when the session ends (the others go with their items' verdicts).
    warnings: Mutex<Vec<(String, String)>>,
    deadline: tokio::time::Instant,
    deadline_after: Duration,
}

struct Session<'a> {
    runtime: &'a tokio::runtime::Handle,
    feed: &'a Feed,
    shared: Shared,
    concurrency: usize,
    batch_size: usize,
    progress: &'a Progress,
}

/// Why a call produced no per-item answers.
enum CallError {
    /// Meta says the call is too large: split it.
    TooLarge(String),
    /// No answer (retries spent, the deadline, a fatal failure): not sent.
    NotSent(String),
}

impl ItemSession for Session<'_> {
    fn send(&mut self, batch: &[ItemOperation]) -> Result<Vec<ItemVerdict>, PushError> {
        let mut verdicts: Vec<Option<ItemVerdict>> = vec![None; batch.len()];
        let mut entries = Vec::with_capacity(batch.len());
        for (index, operation) in batch.iter().enumerate() {
            match request::entry(&self.feed.spec, index, operation) {
                Ok(entry) => entries.push(entry),
                Err(why) => verdicts[index] = Some(ItemVerdict::Rejected(why)),
            }
        }
        let (calls, too_large) = request::calls(entries, self.batch_size, request::MAX_CALL_BYTES);
        for entry in too_large {
            verdicts[entry.index] = Some(ItemVerdict::Rejected(format!(
                "the item takes {} bytes, more than the {} MB Meta takes in one call",
                entry.encoded_len,
                request::MAX_CALL_BYTES / 1_000_000
            )));
        }
        let this = &*self;
        let answered = self.runtime.block_on(async {
            futures::stream::iter(calls)
                .map(|call| this.deliver(call))
                .buffer_unordered(this.concurrency)
                .collect::<Vec<_>>()
                .await
        });
        for (index, verdict) in answered.into_iter().flatten() {
            verdicts[index] = Some(verdict);
        }
        Ok(verdicts
            .into_iter()
            .map(|verdict| {
                verdict.unwrap_or_else(|| {
                    ItemVerdict::NotSent("no answer for this item (a bug; please report it)".into())
                })
            })
            .collect())
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        self.progress.finish();
        let warnings = std::mem::take(
            &mut *self
                .shared
                .warnings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        show_warnings(&self.feed.id, &warnings);
    }
}

/// Meta's warnings that name no item it accepted (an accepted item's own go with its
/// verdict): on stderr, through the log when `sync` set one up.
fn show_warnings(feed: &str, warnings: &[(String, String)]) {
    if warnings.is_empty() {
        return;
    }
    let mut lines = vec![format!(
        "feed `{feed}`: Meta gave {} warning(s) for items it did not accept, or naming none:",
        warnings.len()
    )];
    for (key, message) in warnings.iter().take(WARNINGS_SHOWN) {
        lines.push(format!("  {key}: {message}"));
    }
    if warnings.len() > WARNINGS_SHOWN {
        lines.push(format!("  and {} more", warnings.len() - WARNINGS_SHOWN));
    }
    let text = lines.join("\n");
    if tracing::dispatcher::has_been_set() {
        tracing::warn!(feed, "{text}");
    } else {
        eprintln!("warning: {text}");
    }
}

impl Session<'_> {
    /// Sends one call, split in halves as long as Meta finds it too large.
    async fn deliver(&self, call: Vec<Entry>) -> Vec<(usize, ItemVerdict)> {
        let mut out = Vec::with_capacity(call.len());
        let mut pending = vec![call];
        while let Some(mut call) = pending.pop() {
            match self.one_call(&call).await {
                Ok(verdicts) => out.extend(verdicts),
                Err(CallError::TooLarge(_)) if call.len() > 1 => {
                    let second = call.split_off(call.len() / 2);
                    pending.push(second);
                    pending.push(call);
                }
                Err(CallError::TooLarge(why)) => {
                    out.push((call[0].index, ItemVerdict::Rejected(why)));
                }
                Err(CallError::NotSent(why)) => {
                    out.extend(
                        call.iter()
                            .map(|entry| (entry.index, ItemVerdict::NotSent(why.clone()))),
                    );
                }
            }
        }
        self.progress.advance(out.len() as u64);
        out
    }

    fn deadline_passed(&self) -> String {
        format!(
            "the feed's deadline ({} s, deadline_seconds) passed",
            self.shared.deadline_after.as_secs()
        )
    }

    /// A failure of a call: a fatal one stops every later call of the feed.
    fn failed(&self, failure: Failure) -> CallError {
        if failure.too_large {
            return CallError::TooLarge(failure.message);
        }
        if failure.is_fatal() {
            let message = self.shared.fatal.get_or_init(|| failure.message.clone());
            return CallError::NotSent(message.clone());
        }
        CallError::NotSent(format!(
            "{} (after {} retries)",
            failure.message, self.shared.retry.retries
        ))
    }

    async fn one_call(&self, call: &[Entry]) -> Result<Vec<(usize, ItemVerdict)>, CallError> {
        let shared = &self.shared;
        if let Some(fatal) = shared.fatal.get() {
            return Err(CallError::NotSent(fatal.clone()));
        }
        let requests = request::requests_json(call);
        let form = request::form_body(&shared.credentials.pairs(), &requests);
        drop(requests);
        let sent = tokio::time::timeout_at(
            shared.deadline,
            shared.retry.run(
                || async {
                    if let Some(limiter) = &shared.per_minute {
                        limiter.until_ready().await;
                    }
                    if let Some(limiter) = &shared.per_second {
                        limiter.until_ready().await;
                    }
                    service::post_batch(&shared.client, &shared.batch_url, form.clone()).await
                },
                |_, _| {},
            ),
        )
        .await;
        let answer = match sent {
            Err(_) => return Err(CallError::NotSent(self.deadline_passed())),
            Ok(Err(failure)) => return Err(self.failed(failure)),
            Ok(Ok(answer)) => answer,
        };

        let by_key: HashMap<&str, usize> = call
            .iter()
            .enumerate()
            .map(|(position, entry)| (entry.key.as_str(), position))
            .collect();
        let mut errors: Vec<Vec<String>> = vec![Vec::new(); call.len()];
        let mut warnings = Vec::new();
        for status in answer.validation_status {
            if let Some(&position) = by_key.get(status.retailer_id.as_str()) {
                errors[position].extend(status.errors.into_iter().map(|p| p.message));
                warnings.extend(
                    status
                        .warnings
                        .into_iter()
                        .map(|p| (status.retailer_id.clone(), p.message)),
                );
            }
        }
        let mut outcome = if answer.handles.is_empty() {
            // Nothing was ingested: only the items Meta named have an answer.
            Some("Meta ingested nothing of this call and named no reason".to_owned())
        } else {
            None
        };
        for handle in &answer.handles {
            let status = self.poll_until_done(handle).await?;
            let failed = status.progress() == BatchProgress::Failed;
            for problem in status.errors {
                let position = problem
                    .id
                    .as_deref()
                    .and_then(|id| by_key.get(id).copied())
                    .or(problem.line.filter(|line| *line < call.len()));
                if let Some(position) = position {
                    errors[position].push(problem.message);
                }
            }
            for problem in status.warnings {
                let key = problem
                    .id
                    .clone()
                    .or_else(|| {
                        problem
                            .line
                            .and_then(|l| call.get(l))
                            .map(|e| e.key.clone())
                    })
                    .unwrap_or_default();
                warnings.push((key, problem.message));
            }
            if failed && outcome.is_none() {
                outcome = Some(format!(
                    "Meta reported the batch `{}`: its items may not be saved",
                    status.status
                ));
            }
        }
        // Meta may repeat a warning in the validation status and in the batch status.
        warnings.sort();
        warnings.dedup();
        // A warning travels with its item's verdict; one naming no item of this call is
        // shown when the session ends.
        let mut warned: Vec<Vec<String>> = vec![Vec::new(); call.len()];
        let mut unmatched = Vec::new();
        for (key, message) in warnings {
            match by_key.get(key.as_str()) {
                Some(&position) => warned[position].push(message),
                None => unmatched.push((key, message)),
            }
        }
        let mut verdicts = Vec::with_capacity(call.len());
        for ((entry, errors), warned) in call.iter().zip(errors).zip(warned) {
            let verdict = match (errors.is_empty(), &outcome) {
                (false, _) => ItemVerdict::Rejected(errors.join("; ")),
                (true, None) if warned.is_empty() => ItemVerdict::Accepted,
                (true, None) => {
                    verdicts.push((
                        entry.index,
                        ItemVerdict::AcceptedWithWarnings(warned.join("; ")),
                    ));
                    continue;
                }
                (true, Some(why)) => ItemVerdict::NotSent(why.clone()),
            };
            // A rejected or unanswered item's warnings have no verdict to go with: they are
            // shown with the others that name no accepted item.
            unmatched.extend(
                warned
                    .into_iter()
                    .map(|message| (entry.key.clone(), message)),
            );
            verdicts.push((entry.index, verdict));
        }
        if !unmatched.is_empty() {
            shared
                .warnings
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .extend(unmatched);
        }
        Ok(verdicts)
    }

    /// Polls `handle` with a doubling wait until Meta has processed it.
    async fn poll_until_done(&self, handle: &str) -> Result<service::BatchStatus, CallError> {
        let shared = &self.shared;
        let mut url = shared.status_url.clone();
        {
            let mut query = url.query_pairs_mut();
            query.append_pair("handle", handle);
            for (name, value) in shared.credentials.pairs() {
                query.append_pair(name, value);
            }
        }
        let mut wait = shared.poll_interval;
        loop {
            if tokio::time::Instant::now() + wait > shared.deadline {
                return Err(CallError::NotSent(format!(
                    "{}: Meta was still processing the batch",
                    self.deadline_passed()
                )));
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(MAX_POLL_INTERVAL);
            let polled = tokio::time::timeout_at(
                shared.deadline,
                shared
                    .retry
                    .run(|| service::poll(&shared.client, &url), |_, _| {}),
            )
            .await;
            match polled {
                Err(_) => return Err(CallError::NotSent(self.deadline_passed())),
                Ok(Err(failure)) => return Err(self.failed(failure)),
                Ok(Ok(status)) if status.progress() == BatchProgress::Pending => {}
                Ok(Ok(status)) => return Ok(status),
            }
        }
    }
}
