//! `[destination] kind = "amazon-sp-api"`: the user's settings. These doc comments are the
//! reference (README "Pushing to Amazon through the SP-API Feeds API" shows an example).

use serde::Deserialize;

/// Login with Amazon's token endpoint; `token_url` replaces it (a local test server).
pub const DEFAULT_TOKEN_URL: &str = "https://api.amazon.com/auth/o2/token";

/// Where the LWA app's credentials are read from, unless the `*_env` keys rename them.
pub(super) const DEFAULT_CLIENT_ID_ENV: &str = "SP_API_CLIENT_ID";
pub(super) const DEFAULT_CLIENT_SECRET_ENV: &str = "SP_API_CLIENT_SECRET";
pub(super) const DEFAULT_REFRESH_TOKEN_ENV: &str = "SP_API_REFRESH_TOKEN";

/// Amazon's advice for one feed document: under 10 MiB ("Feeds API Best Practices").
pub(super) const DEFAULT_MAX_DOCUMENT_BYTES: u64 = 10 * 1024 * 1024;
/// Messages per JSON_LISTINGS_FEED document: 25,000 since May 2025 (the schema's
/// `maxItems`).
pub(super) const DEFAULT_MAX_MESSAGES: usize = 25_000;

/// The SP-API region a seller's marketplaces belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum Region {
    /// North America: US, CA, MX, BR.
    #[serde(rename = "NA")]
    NorthAmerica,
    /// Europe, the Middle East, India and Africa.
    #[serde(rename = "EU")]
    Europe,
    /// Far East: JP, AU, SG.
    #[serde(rename = "FE")]
    FarEast,
}

impl Region {
    /// The region's SP-API host, as Amazon documents it.
    pub fn endpoint(self) -> &'static str {
        match self {
            Region::NorthAmerica => "https://sellingpartnerapi-na.amazon.com",
            Region::Europe => "https://sellingpartnerapi-eu.amazon.com",
            Region::FarEast => "https://sellingpartnerapi-fe.amazon.com",
        }
    }
}

/// One operation's usage plan: a steady rate and a burst the client may spend at once.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimit {
    /// Requests per second, e.g. 0.0083 (one every two minutes).
    pub per_second: f64,
    pub burst: u32,
}

/// Usage plans per Feeds API operation; each defaults to the model's documented plan.
/// Sellers granted more can raise them; a run never exceeds them, it waits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimits {
    /// `createFeedDocument` (default 0.5/s, burst 15).
    pub create_feed_document: Option<RateLimit>,
    /// `createFeed` (default 0.0083/s, burst 15).
    pub create_feed: Option<RateLimit>,
    /// `getFeed` (default 2/s, burst 15).
    pub get_feed: Option<RateLimit>,
    /// `getFeedDocument` (default 0.0222/s, burst 10).
    pub get_feed_document: Option<RateLimit>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AmazonSpConfig {
    /// The marketplaces the feed applies to, e.g. `["ATVPDKIKX0DER"]` (1 to 25).
    pub marketplace_ids: Vec<String>,
    /// `NA`, `EU` or `FE`: picks Amazon's SP-API host. One of `region` and `endpoint`.
    pub region: Option<Region>,
    /// SP-API base URL instead of the region's (the sandbox, a proxy, a local test server);
    /// `http://` only for a loopback address.
    pub endpoint: Option<String>,
    /// LWA token URL (default `https://api.amazon.com/auth/o2/token`).
    pub token_url: Option<String>,
    /// Environment variables holding the LWA app's client id and secret and the seller's
    /// refresh token (defaults `SP_API_CLIENT_ID`, `SP_API_CLIENT_SECRET`,
    /// `SP_API_REFRESH_TOKEN`).
    pub client_id_env: Option<String>,
    pub client_secret_env: Option<String>,
    pub refresh_token_env: Option<String>,
    /// Messages per feed document at most (default 25,000).
    pub max_messages: Option<usize>,
    /// Bytes per feed document at most (default 10 MiB, Amazon's advice).
    pub max_document_bytes: Option<u64>,
    /// The first wait between two `getFeed` polls, in milliseconds (default 15,000); it
    /// doubles up to `poll_max_seconds`.
    pub poll_interval_ms: Option<u64>,
    /// The longest wait between two polls (default 120).
    pub poll_max_seconds: Option<u64>,
    /// Seconds one request may take before it counts as failed and is retried (default 60).
    pub request_timeout_seconds: Option<u64>,
    /// Seconds the whole feed may take, Amazon's processing included (default 14,400);
    /// items not answered by then are not recorded, and the next push sends them.
    pub deadline_seconds: Option<u64>,
    /// Retries of one request after a 429, a 5xx, a timeout or a reset (default 5).
    pub retries: Option<usize>,
    /// An item rejected this many runs in a row for the same content and reason is held
    /// back until its content changes (default 3).
    pub hold_back_after: Option<u32>,
    /// Usage plans per operation (see [`RateLimits`]).
    #[serde(default)]
    pub rate_limits: RateLimits,
}

impl AmazonSpConfig {
    /// The SP-API base URL: `endpoint`, else the region's host.
    pub fn base_url(&self) -> Option<&str> {
        self.endpoint
            .as_deref()
            .or(self.region.map(Region::endpoint))
            .map(|url| url.trim_end_matches('/'))
    }

    /// Settings that cannot work, one line each with what to do.
    pub fn problems(&self, spec: &crate::spec::ChannelSpec) -> Vec<String> {
        let mut problems = Vec::new();
        let api = spec.api.as_ref();
        if api.and_then(|api| api.feed_type.as_ref()).is_none()
            || api
                .and_then(|api| api.document_content_type.as_ref())
                .is_none()
        {
            problems.push(format!(
                "kind = \"amazon-sp-api\" needs a channel whose spec's [api] names a feed_type \
                 and a document_content_type; `{}` does not (use amazon-listings)",
                spec.id
            ));
        }
        if spec.formats.values().all(|format| {
            format.kind != crate::spec::FormatKind::JsonDocument || format.envelope.is_none()
        }) {
            problems.push(format!(
                "kind = \"amazon-sp-api\" sends json_document messages; `{}` has no json_document format",
                spec.id
            ));
        }
        match (&self.region, &self.endpoint) {
            (None, None) => problems.push(
                "set region = \"NA\", \"EU\" or \"FE\" (where the seller's marketplaces are), \
                 or endpoint = \"https://…\""
                    .to_owned(),
            ),
            (Some(_), Some(_)) => {
                problems.push("set region or endpoint, not both".to_owned());
            }
            _ => {}
        }
        if self.marketplace_ids.is_empty() || self.marketplace_ids.len() > 25 {
            problems.push(format!(
                "marketplace_ids has {} ids; the Feeds API takes 1 to 25, e.g. \
                 marketplace_ids = [\"ATVPDKIKX0DER\"]",
                self.marketplace_ids.len()
            ));
        }
        for id in &self.marketplace_ids {
            if id.is_empty() || !id.chars().all(|c| c.is_ascii_alphanumeric()) {
                problems.push(format!(
                    "marketplace_ids: {id:?} is not a marketplace id (letters and digits, e.g. \
                     \"A1PA6795UKMFR9\" for amazon.de)"
                ));
            }
        }
        for (key, value) in [
            ("client_id_env", &self.client_id_env),
            ("client_secret_env", &self.client_secret_env),
            ("refresh_token_env", &self.refresh_token_env),
        ] {
            if let Some(name) = value
                && (name.is_empty() || name.contains('='))
            {
                problems.push(format!(
                    "{key} = {name:?} must name an environment variable"
                ));
            }
        }
        for (key, value) in [
            ("max_messages", self.max_messages.map(|n| n as u64)),
            ("max_document_bytes", self.max_document_bytes),
            ("poll_interval_ms", self.poll_interval_ms),
            ("poll_max_seconds", self.poll_max_seconds),
            ("request_timeout_seconds", self.request_timeout_seconds),
            ("deadline_seconds", self.deadline_seconds),
            ("hold_back_after", self.hold_back_after.map(u64::from)),
        ] {
            if value == Some(0) {
                problems.push(format!("{key} = 0 must be at least 1"));
            }
        }
        if let Some(max) = self.max_messages
            && max > DEFAULT_MAX_MESSAGES
        {
            problems.push(format!(
                "max_messages = {max}: a JSON_LISTINGS_FEED takes {DEFAULT_MAX_MESSAGES} at most"
            ));
        }
        let limits = &self.rate_limits;
        for (key, limit) in [
            ("create_feed_document", limits.create_feed_document),
            ("create_feed", limits.create_feed),
            ("get_feed", limits.get_feed),
            ("get_feed_document", limits.get_feed_document),
        ] {
            if let Some(limit) = limit
                && (!limit.per_second.is_finite() || limit.per_second <= 0.0 || limit.burst == 0)
            {
                problems.push(format!(
                    "rate_limits.{key}: per_second must be above 0 and burst at least 1"
                ));
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
