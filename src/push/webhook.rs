//! `[notify] webhook`: posts a run's JSON report to a URL the user names, so a failed cron
//! run reaches someone even when nobody reads cron mail. Sent on the process's one
//! [`NetRuntime`], retried with the shared [`RetryPolicy`] (connection errors, timeouts,
//! 408, 429 and 5xx; `Retry-After` honoured), never retried on another 4xx. The URL may
//! itself be a secret (Slack, Teams and most chat webhooks carry their token in the path):
//! `webhook_env` names the variable holding it, and messages then name the variable, never
//! the URL. A bearer token comes from `token_env`.

use std::time::Duration;

use serde::Deserialize;

use super::retry::{RetryPolicy, Transient, Verdict, parse_retry_after};
use super::runtime::NetRuntime;
use super::secret::{self, Secret, SecretError};

/// How long one attempt may take, connecting included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(20);

/// `[notify]` in omnifeed.toml: who hears about a `sync` run.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotifyConfig {
    /// URL that receives the run's JSON report by `POST` (`Content-Type: application/json`).
    pub webhook: Option<String>,
    /// Name of an environment variable holding the URL instead, for URLs that carry a token.
    pub webhook_env: Option<String>,
    /// Name of an environment variable whose value is sent as `Authorization: Bearer …`.
    pub token_env: Option<String>,
    /// `failure` (default): only runs that do not end ok; `always`: every run.
    #[serde(default)]
    pub on: NotifyOn,
    /// Retries after the first attempt (default 5; waits grow from 0.5 s to 30 s).
    pub retries: Option<usize>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NotifyOn {
    #[default]
    Failure,
    Always,
}

impl NotifyConfig {
    /// Whether a webhook is configured at all.
    pub fn is_set(&self) -> bool {
        self.webhook.is_some() || self.webhook_env.is_some()
    }

    /// Whether a run that ended `ok` (or not) is to be posted.
    pub fn wants(&self, ok: bool) -> bool {
        self.is_set() && (!ok || self.on == NotifyOn::Always)
    }

    /// What is wrong with the settings, checked when the config is read (the URL in an
    /// environment variable is checked when it is used).
    pub fn problem(&self) -> Option<String> {
        match (&self.webhook, &self.webhook_env) {
            (Some(_), Some(_)) => {
                Some("[notify] sets both `webhook` and `webhook_env`; keep one".to_owned())
            }
            (Some(url), None) => parse_url(url)
                .err()
                .map(|problem| format!("[notify] webhook: {problem}")),
            (None, None) if self.token_env.is_some() || self.retries.is_some() => Some(
                "[notify] has settings but no `webhook` or `webhook_env` to send to".to_owned(),
            ),
            _ => None,
        }
    }

    /// Where reports go, for messages: the literal URL's origin, or the variable's name.
    pub fn target(&self) -> String {
        match (&self.webhook, &self.webhook_env) {
            (Some(url), _) => match parse_url(url) {
                Ok(url) => format!("webhook {}", url.origin().ascii_serialization()),
                Err(_) => "webhook (invalid URL)".to_owned(),
            },
            (None, Some(var)) => format!("webhook in ${var}"),
            (None, None) => "no webhook".to_owned(),
        }
    }

    fn policy(&self) -> RetryPolicy {
        RetryPolicy {
            retries: self.retries.unwrap_or(RetryPolicy::default().retries),
            max_retry_after: Duration::from_secs(60),
            ..RetryPolicy::default()
        }
    }
}

/// Why a report could not be posted. Never holds a secret: URLs from the environment and
/// tokens are not in any message.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("{target}: {problem}")]
    Url { target: String, problem: String },
    #[error("{target}: no token")]
    Secret {
        target: String,
        #[source]
        source: SecretError,
    },
    #[error("{target}: request failed")]
    Send {
        target: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{target} answered {status}{}", answer(.body))]
    Status {
        target: String,
        status: reqwest::StatusCode,
        retry_after: Option<Duration>,
        body: String,
    },
}

fn answer(body: &str) -> String {
    if body.is_empty() {
        String::new()
    } else {
        format!(": {body}")
    }
}

impl Transient for WebhookError {
    fn verdict(&self) -> Verdict {
        match self {
            WebhookError::Url { .. } | WebhookError::Secret { .. } => Verdict::Fatal,
            WebhookError::Send { source, .. } if source.is_builder() => Verdict::Fatal,
            WebhookError::Send { .. } => Verdict::Retry,
            WebhookError::Status {
                status,
                retry_after,
                ..
            } => {
                let transient = status.is_server_error()
                    || *status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || *status == reqwest::StatusCode::REQUEST_TIMEOUT;
                match (transient, retry_after) {
                    (false, _) => Verdict::Fatal,
                    (true, Some(wait)) => Verdict::RetryAfter(*wait),
                    (true, None) => Verdict::Retry,
                }
            }
        }
    }
}

/// Posts `report` (JSON bytes) to the configured webhook, retrying transient failures;
/// `on_retry` hears each failed attempt that is retried and the wait before the next.
pub fn post(
    notify: &NotifyConfig,
    report: Vec<u8>,
    net: &NetRuntime,
    on_retry: impl FnMut(&WebhookError, Duration),
) -> Result<(), WebhookError> {
    let target = notify.target();
    let url = match (&notify.webhook, &notify.webhook_env) {
        (Some(url), _) => url.clone(),
        (None, Some(var)) => secret::from_env(var, "notify webhook URL")
            .map_err(|source| WebhookError::Secret {
                target: target.clone(),
                source,
            })?
            .expose()
            .to_owned(),
        (None, None) => return Ok(()),
    };
    let url = parse_url(&url).map_err(|problem| WebhookError::Url {
        target: target.clone(),
        problem,
    })?;
    let token: Option<Secret> = match &notify.token_env {
        Some(var) => Some(
            secret::from_env(var, "notify webhook token").map_err(|source| {
                WebhookError::Secret {
                    target: target.clone(),
                    source,
                }
            })?,
        ),
        None => None,
    };
    let client = reqwest::Client::builder()
        .user_agent(concat!("omnifeed/", env!("CARGO_PKG_VERSION")))
        .timeout(ATTEMPT_TIMEOUT)
        // A redirected POST turns into a GET on the way: the report would be lost quietly.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|source| WebhookError::Send {
            target: target.clone(),
            source: source.without_url(),
        })?;
    let attempt = || {
        let mut request = client
            .post(url.clone())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(report.clone());
        if let Some(token) = &token {
            request = request.bearer_auth(token.expose());
        }
        let target = target.clone();
        async move {
            let response = request.send().await.map_err(|source| WebhookError::Send {
                target: target.clone(),
                source: source.without_url(),
            })?;
            let status = response.status();
            if status.is_success() {
                return Ok(());
            }
            let retry_after = response
                .headers()
                .get(reqwest::header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, jiff::Timestamp::now()));
            let body = response.text().await.unwrap_or_default();
            Err(WebhookError::Status {
                target,
                status,
                retry_after,
                body: body.trim().chars().take(200).collect(),
            })
        }
    };
    let policy = notify.policy();
    net.block_on(policy.run(attempt, on_retry))
}

fn parse_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text).map_err(|err| format!("not a URL ({err})"))?;
    match url.scheme() {
        "https" | "http" => Ok(url),
        other => Err(format!("scheme `{other}` is not http or https")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notify(toml_text: &str) -> NotifyConfig {
        toml::from_str(toml_text).expect("notify config")
    }

    #[test]
    fn settings_are_checked_and_messages_hide_env_urls() {
        assert!(
            notify("webhook = 'ftp://x'")
                .problem()
                .unwrap()
                .contains("ftp")
        );
        assert!(
            notify("webhook = 'https://a'\nwebhook_env = 'V'")
                .problem()
                .unwrap()
                .contains("both")
        );
        assert!(notify("token_env = 'T'").problem().is_some());
        let literal = notify("webhook = 'https://hooks.example.com/T0KEN/x?k=s3cret'");
        assert_eq!(literal.problem(), None);
        assert_eq!(literal.target(), "webhook https://hooks.example.com");
        assert_eq!(notify("webhook_env = 'HOOK'").target(), "webhook in $HOOK");
    }

    #[test]
    fn only_failures_are_posted_unless_always() {
        let failure = notify("webhook = 'https://a'");
        assert!(failure.wants(false) && !failure.wants(true));
        let always = notify("webhook = 'https://a'\non = 'always'");
        assert!(always.wants(true));
        assert!(!NotifyConfig::default().wants(false));
    }

    #[test]
    fn client_errors_other_than_408_and_429_are_not_retried() {
        let status = |code: u16, retry_after| WebhookError::Status {
            target: String::new(),
            status: reqwest::StatusCode::from_u16(code).unwrap(),
            retry_after,
            body: String::new(),
        };
        assert_eq!(status(401, None).verdict(), Verdict::Fatal);
        assert_eq!(status(404, None).verdict(), Verdict::Fatal);
        assert_eq!(status(408, None).verdict(), Verdict::Retry);
        assert_eq!(status(503, None).verdict(), Verdict::Retry);
        assert_eq!(
            status(429, Some(Duration::from_secs(7))).verdict(),
            Verdict::RetryAfter(Duration::from_secs(7))
        );
    }
}
