//! `[destination] kind = "meta-catalog-api"`: the user's settings. These doc comments are
//! the reference (README "Pushing to a Meta catalog" shows an example).

use serde::Deserialize;

/// The real host; `endpoint` replaces it (a proxy, a local test server).
pub const DEFAULT_ENDPOINT: &str = "https://graph.facebook.com";
/// The Graph API version calls go to when `api_version` is not set: the newest one
/// (v26.0, released 2026-07-29, per Meta's Graph API changelog).
pub const DEFAULT_API_VERSION: &str = "v26.0";
pub(super) const DEFAULT_TOKEN_ENV: &str = "META_ACCESS_TOKEN";
pub(super) const DEFAULT_APP_SECRET_ENV: &str = "META_APP_SECRET";
/// Requests per `items_batch` call: Meta advises at most 3,000 and refuses more than 5,000.
pub(super) const DEFAULT_BATCH_SIZE: usize = 3000;
pub(super) const MAX_BATCH_SIZE: usize = 5000;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaCatalogConfig {
    /// The catalog's id (digits): Commerce Manager > Catalog > Settings, or Business
    /// Settings > Data sources > Catalogs.
    pub catalog_id: String,
    /// Graph API base URL (default `https://graph.facebook.com`); `http://` only for a
    /// loopback address.
    pub endpoint: Option<String>,
    /// Graph API version, `v26.0` or `26.0` (default: the newest when this omnifeed was
    /// released, v26.0).
    pub api_version: Option<String>,
    /// The variable holding the system user's access token (default `META_ACCESS_TOKEN`).
    pub token_env: Option<String>,
    /// The variable holding the app secret (default `META_APP_SECRET`); when it is set,
    /// every call carries `appsecret_proof`, which apps with "Require App Secret" need.
    pub app_secret_env: Option<String>,
    /// Items per `items_batch` call (default 3,000, at most 5,000); calls are split further
    /// to stay under Meta's 28 MB per call.
    pub batch_size: Option<usize>,
    /// `items_batch` calls in flight at once (default: the channel spec's `[api]`).
    pub concurrency: Option<usize>,
    /// Calls per second at most (default: the channel spec's `[api]`).
    pub requests_per_second: Option<u32>,
    /// Calls per minute at most (default: the channel spec's `[api]`).
    pub requests_per_minute: Option<u32>,
    /// Seconds one call may take before it counts as failed and is retried (default 120).
    pub request_timeout_seconds: Option<u64>,
    /// Seconds the whole feed may take, polling included (default 3600); items without an
    /// answer by then are not recorded, and the next push sends them.
    pub deadline_seconds: Option<u64>,
    /// Retries of one call after a 429, a 5xx, a throttling answer, a timeout or a reset
    /// (default 5).
    pub retries: Option<usize>,
    /// Milliseconds before the first `check_batch_request_status` poll of a handle; the
    /// wait doubles up to 30 s (default 1000).
    pub poll_interval_ms: Option<u64>,
    /// An item rejected this many runs in a row for the same content and reason is held
    /// back until its content changes (default 3).
    pub hold_back_after: Option<u32>,
}

impl MetaCatalogConfig {
    pub fn endpoint(&self) -> &str {
        self.endpoint
            .as_deref()
            .unwrap_or(DEFAULT_ENDPOINT)
            .trim_end_matches('/')
    }

    /// The version as a path segment: `v26.0`.
    pub fn api_version(&self) -> String {
        match self.api_version.as_deref() {
            Some(version) if version.starts_with('v') => version.to_owned(),
            Some(version) => format!("v{version}"),
            None => DEFAULT_API_VERSION.to_owned(),
        }
    }

    pub fn token_env(&self) -> &str {
        self.token_env.as_deref().unwrap_or(DEFAULT_TOKEN_ENV)
    }

    pub fn app_secret_env(&self) -> &str {
        self.app_secret_env
            .as_deref()
            .unwrap_or(DEFAULT_APP_SECRET_ENV)
    }

    pub fn batch_size(&self) -> usize {
        self.batch_size.unwrap_or(DEFAULT_BATCH_SIZE)
    }

    /// Settings that cannot work, one line each with what to do.
    pub fn problems(&self, spec: &crate::spec::ChannelSpec) -> Vec<String> {
        let mut problems = Vec::new();
        if spec.api.is_none() {
            problems.push(format!(
                "kind = \"meta-catalog-api\" needs a channel whose spec has an [api] table; \
                 `{}` has none (use meta-catalog)",
                spec.id
            ));
        }
        if self.catalog_id.is_empty() || !self.catalog_id.chars().all(|c| c.is_ascii_digit()) {
            problems.push(format!(
                "catalog_id = {:?} must be the catalog's numeric id alone, e.g. catalog_id = \
                 \"1234567890\" (Commerce Manager > Catalog > Settings)",
                self.catalog_id
            ));
        }
        let version = self.api_version();
        let valid_version = version
            .strip_prefix('v')
            .and_then(|rest| rest.split_once('.'))
            .is_some_and(|(major, minor)| {
                !major.is_empty()
                    && !minor.is_empty()
                    && major.chars().all(|c| c.is_ascii_digit())
                    && minor.chars().all(|c| c.is_ascii_digit())
            });
        if !valid_version {
            problems.push(format!(
                "api_version = {version:?} is not a Graph API version such as \"v26.0\""
            ));
        }
        for (key, name) in [
            ("token_env", &self.token_env),
            ("app_secret_env", &self.app_secret_env),
        ] {
            if let Some(name) = name
                && (name.is_empty() || name.contains('=') || name.contains('\0'))
            {
                problems.push(format!(
                    "{key} = {name:?} must name an environment variable"
                ));
            }
        }
        if let Some(size) = self.batch_size
            && !(1..=MAX_BATCH_SIZE).contains(&size)
        {
            problems.push(format!(
                "batch_size = {size}: Meta takes 1 to {MAX_BATCH_SIZE} requests per call \
                 (3,000 advised)"
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
        if let Some(url) = &self.endpoint
            && let Err(problem) = crate::push::endpoint::checked_url(url)
        {
            problems.push(format!("endpoint = {url:?}: {problem}"));
        }
        problems
    }
}
