//! `[destination] kind = "google-merchant-api"`: the user's settings. These doc comments are
//! the reference (README "Pushing through the Google Merchant API" shows an example).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The real hosts; `endpoint` and `token_url` replace them (a sandbox, a proxy, a local
/// test server).
pub const DEFAULT_ENDPOINT: &str = "https://merchantapi.googleapis.com";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GoogleMerchantConfig {
    /// The Merchant Center account id (digits), as in `accounts/{account}`.
    pub account: String,
    /// The id of an API data source of that account (Merchant Center: Settings > Data
    /// sources), as in `accounts/{account}/dataSources/{id}`.
    pub data_source: String,
    /// The feed label products are filed under (default: the feed's country).
    pub feed_label: Option<String>,
    /// The service account's JSON key file, relative to omnifeed.toml or absolute (default:
    /// the file `GOOGLE_APPLICATION_CREDENTIALS` names).
    pub credentials_file: Option<PathBuf>,
    /// API base URL (default `https://merchantapi.googleapis.com`); `http://` only for a
    /// loopback address.
    pub endpoint: Option<String>,
    /// OAuth token URL (default: the key file's `token_uri`); `http://` only for a loopback
    /// address.
    pub token_url: Option<String>,
    /// Requests in flight at once (default: the channel spec's `[api] concurrency`).
    pub concurrency: Option<usize>,
    /// Requests per second at most (default: the channel spec's `[api]`).
    pub requests_per_second: Option<u32>,
    /// Requests per minute at most (default: the channel spec's `[api]`).
    pub requests_per_minute: Option<u32>,
    /// Seconds one request may take before it counts as failed and is retried (default 30).
    pub request_timeout_seconds: Option<u64>,
    /// Seconds the whole feed may take (default 3600); items not sent by then are not
    /// recorded, and the next push sends them.
    pub deadline_seconds: Option<u64>,
    /// Retries of one request after a 429, a 5xx, a timeout or a reset (default 5).
    pub retries: Option<usize>,
    /// An item rejected this many runs in a row for the same content and reason is held
    /// back until its content changes (default 3).
    pub hold_back_after: Option<u32>,
}

impl GoogleMerchantConfig {
    /// Relative paths taken from `base` (the folder of omnifeed.toml).
    pub fn resolve_paths(&mut self, base: &Path) {
        if let Some(path) = &mut self.credentials_file
            && path.is_relative()
        {
            *path = base.join(&*path);
        }
    }
}

impl GoogleMerchantConfig {
    /// Settings that cannot work, one line each with what to do.
    pub fn problems(&self, spec: &crate::spec::ChannelSpec) -> Vec<String> {
        let mut problems = Vec::new();
        // A spec whose [api] names a feed type takes documents (Amazon), not single items.
        if spec.api.as_ref().is_none_or(|api| api.feed_type.is_some()) {
            problems.push(format!(
                "kind = \"google-merchant-api\" needs a channel whose spec has an [api] table; \
                 `{}` has none (use google-merchant or google-local-inventory)",
                spec.id
            ));
        }
        for (key, value) in [
            ("account", &self.account),
            ("data_source", &self.data_source),
        ] {
            if value.is_empty() || !value.chars().all(|c| c.is_ascii_alphanumeric()) {
                problems.push(format!(
                    "{key} = {value:?} must be the id alone (digits), e.g. {key} = \"123456\""
                ));
            }
        }
        if let Some(label) = &self.feed_label
            && (label.is_empty()
                || label.len() > 20
                || !label
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_'))
        {
            problems.push(format!(
                "feed_label = {label:?}: 1-20 characters of A-Z, 0-9, `-` and `_`"
            ));
        }
        for (key, value) in [
            ("concurrency", self.concurrency.map(|n| n as u64)),
            (
                "requests_per_second",
                self.requests_per_second.map(u64::from),
            ),
            (
                "requests_per_minute",
                self.requests_per_minute.map(u64::from),
            ),
            ("request_timeout_seconds", self.request_timeout_seconds),
            ("deadline_seconds", self.deadline_seconds),
            ("hold_back_after", self.hold_back_after.map(u64::from)),
        ] {
            if value == Some(0) {
                problems.push(format!("{key} = 0 must be at least 1"));
            }
        }
        for (key, url) in [("endpoint", &self.endpoint), ("token_url", &self.token_url)] {
            if let Some(url) = url
                && let Err(problem) = crate::push::endpoint::checked_url(url)
            {
                problems.push(format!("{key} = {url:?}: {problem}"));
            }
        }
        problems
    }
}
