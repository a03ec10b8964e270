//! `[destination] kind = "http"`: the user's keys, checked when the feed is loaded, and
//! their secrets read at push time. Header values that carry credentials come from
//! environment variables or files, never from the feed file.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use serde::Deserialize;

use crate::push::secret::{self, Secret, SecretError};

const DEFAULT_CONNECT_TIMEOUT_SECS: u64 = 10;
const DEFAULT_TIMEOUT_SECS: u64 = 3600;
/// Where the file name goes in `url`.
pub(super) const FILE_PLACEHOLDER: &str = "{file}";

/// A web endpoint each feed file is sent to, one request per file: a presigned upload
/// URL, a receiver of the merchant's own, a channel's upload endpoint. A `2xx` answer
/// means the file was accepted; connection errors, timeouts, 408, 429 and 5xx are retried
/// with backoff (a `Retry-After` is honoured); any other answer fails the push at once.
/// TLS certificates are always verified.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpDestination {
    /// The URL of each file; `{file}` is replaced by the file's name (`shop.xml`,
    /// `shop-0002.xml.gz`), e.g. `https://feeds.example.com/upload/{file}`. Needed with
    /// `method = "PUT"` when the feed is split into parts.
    pub url: Option<String>,
    /// Instead of `url`: the environment variable holding it, for a URL that is itself a
    /// credential (a presigned URL, a webhook with a token in its path). It is never
    /// printed.
    pub url_env: Option<String>,
    /// `PUT` (default) or `POST`.
    #[serde(default)]
    pub method: Method,
    /// Request headers. A value is either text, for headers that carry no secret
    /// (`X-Feed-Source = "omnifeed"`), or read at push time:
    /// `Authorization = { env = "FEED_TOKEN", prefix = "Bearer " }` or
    /// `{ file = "secrets/token", prefix = "Bearer " }`. `Content-Type` defaults to the
    /// format's (`application/gzip` for gzipped feeds).
    #[serde(default)]
    pub headers: BTreeMap<String, HeaderSource>,
    /// A PEM file of CA certificates to trust besides the system's, for a server with a
    /// private CA (relative to `omnifeed.toml`). Verification cannot be turned off.
    pub ca_file: Option<PathBuf>,
    /// Allow a plain `http://` URL. Off by default: the feed and any credential header
    /// would cross the network unencrypted.
    #[serde(default)]
    pub allow_http: bool,
    /// Seconds to wait for a connection (default 10).
    pub connect_timeout_secs: Option<u64>,
    /// Seconds one request, the whole file, may take (default 3600).
    pub timeout_secs: Option<u64>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum Method {
    #[default]
    #[serde(rename = "PUT", alias = "put")]
    Put,
    #[serde(rename = "POST", alias = "post")]
    Post,
}

impl Method {
    pub(super) fn as_reqwest(self) -> reqwest::Method {
        match self {
            Method::Put => reqwest::Method::PUT,
            Method::Post => reqwest::Method::POST,
        }
    }
}

/// Where a header's value comes from.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum HeaderSource {
    /// Written in the config: for values that are no secret.
    Text(String),
    /// Read at push time from a variable or a file.
    Secret(SecretHeader),
}

/// `{ env = "VAR", prefix = "Bearer " }` or `{ file = "path", prefix = … }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecretHeader {
    /// The environment variable holding the value.
    pub env: Option<String>,
    /// The file holding the value (one trailing newline is dropped).
    pub file: Option<PathBuf>,
    /// Text put before the value, e.g. `"Bearer "`.
    #[serde(default)]
    pub prefix: String,
}

/// Headers whose value is a credential: they must come from a variable or a file.
fn is_credential_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(
        name.as_str(),
        "authorization" | "proxy-authorization" | "cookie"
    ) || ["token", "secret", "key", "signature", "password", "auth"]
        .iter()
        .any(|word| name.contains(word))
}

/// Headers omnifeed sets itself from the file.
fn is_framing_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "content-length" | "transfer-encoding" | "host" | "content-encoding"
    )
}

/// The destination with its secrets read: what one push sends.
pub(super) struct Resolved {
    /// The URL template; a secret when it came from `url_env`.
    pub(super) url: Secret,
    /// How the URL is shown: never its query, nor anything of a URL from `url_env` past
    /// its origin.
    pub(super) shown_url: String,
    pub(super) headers: HeaderMap,
    /// Every secret value sent, to blank out of the server's answers before showing them.
    pub(super) secrets: Vec<Secret>,
}

impl HttpDestination {
    /// Everything wrong with the settings, without reading secrets or the network.
    pub fn problems(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match (&self.url, &self.url_env) {
            (Some(url), None) => problems.extend(self.url_problem(url)),
            (None, Some(var)) if var.is_empty() => {
                problems.push("url_env is empty\n  hint: name an environment variable".into())
            }
            (None, Some(_)) => {}
            _ => problems.push(
                "set one of url or url_env\n  hint: url = \"https://feeds.example.com/{file}\", \
                 or url_env = \"FEED_UPLOAD_URL\" for a presigned URL"
                    .into(),
            ),
        }
        for (name, source) in &self.headers {
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                problems.push(format!("headers: `{name}` is not a valid header name"));
                continue;
            }
            if is_framing_header(name) {
                problems.push(format!(
                    "headers: `{name}` is set by omnifeed from the file\n  hint: remove it"
                ));
            }
            match source {
                HeaderSource::Text(_) if is_credential_header(name) => problems.push(format!(
                    "headers: `{name}` carries a credential and must not be written in the feed \
                     file\n  hint: {name} = {{ env = \"FEED_TOKEN\", prefix = \"Bearer \" }} reads \
                     it from the environment at push time (or file = \"…\")"
                )),
                HeaderSource::Text(value) if HeaderValue::from_str(value).is_err() => problems
                    .push(format!(
                        "headers: the value of `{name}` has characters a header cannot carry"
                    )),
                HeaderSource::Text(_) => {}
                HeaderSource::Secret(secret) => match (&secret.env, &secret.file) {
                    (Some(var), None) if !var.is_empty() => {}
                    (None, Some(_)) => {}
                    _ => problems.push(format!(
                        "headers: `{name}` needs exactly one of env = \"VARIABLE\" or file = \
                         \"PATH\""
                    )),
                },
            }
        }
        for (key, value) in [
            ("connect_timeout_secs", self.connect_timeout_secs),
            ("timeout_secs", self.timeout_secs),
        ] {
            if value == Some(0) {
                problems.push(format!(
                    "{key} = 0 would fail every request\n  hint: leave it out for the default"
                ));
            }
        }
        problems
    }

    /// What is wrong with `url` (a template, or the value of `url_env`), if anything.
    pub(super) fn url_problem(&self, url: &str) -> Option<String> {
        let hint = "hint: e.g. url = \"https://feeds.example.com/upload/{file}\"";
        let parsed = match url::Url::parse(&url.replace(FILE_PLACEHOLDER, "feed.xml")) {
            Ok(parsed) => parsed,
            Err(err) => return Some(format!("url is not a URL ({err})\n  {hint}")),
        };
        match parsed.scheme() {
            "https" => {}
            "http" if self.allow_http => {}
            "http" => {
                return Some(
                    "url is plain http, which sends the feed and any credential unencrypted\n  \
                     hint: use https, or set allow_http = true for a receiver on a trusted network"
                        .into(),
                );
            }
            other => return Some(format!("url: `{other}://` is not http(s)\n  {hint}")),
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Some(
                "url carries a user name or password, which must not be written in the feed \
                 file\n  hint: send it in a header read from the environment, e.g. \
                 Authorization = { env = \"FEED_TOKEN\", prefix = \"Bearer \" }"
                    .into(),
            );
        }
        None
    }

    /// The destination with `ca_file` and header files relative to `base`.
    pub fn with_base_dir(mut self, base: &Path) -> HttpDestination {
        if let Some(ca) = &self.ca_file {
            self.ca_file = Some(base.join(ca));
        }
        for source in self.headers.values_mut() {
            if let HeaderSource::Secret(SecretHeader {
                file: Some(file), ..
            }) = source
            {
                *file = base.join(&*file);
            }
        }
        self
    }

    pub(super) fn connect_timeout(&self) -> Duration {
        Duration::from_secs(
            self.connect_timeout_secs
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT_SECS),
        )
    }

    pub(super) fn timeout(&self) -> Duration {
        Duration::from_secs(self.timeout_secs.unwrap_or(DEFAULT_TIMEOUT_SECS))
    }

    /// Reads the URL and the header values from the environment and files.
    pub(super) fn resolve(&self) -> Result<Resolved, ResolveError> {
        let mut secrets = Vec::new();
        let (url, shown_url) = match (&self.url, &self.url_env) {
            (Some(url), _) => (Secret::new(url.clone()), without_query(url)),
            (None, Some(var)) => {
                let url = secret::from_env(var, "the upload URL")?;
                if let Some(problem) = self.url_problem(url.expose()) {
                    return Err(ResolveError::Url(format!("${var}: {problem}")));
                }
                let origin = url::Url::parse(&url.expose().replace(FILE_PLACEHOLDER, "f"))
                    .map(|u| u.origin().ascii_serialization())
                    .unwrap_or_default();
                secrets.push(url.clone());
                (url, format!("{origin}/… (from ${var})"))
            }
            (None, None) => return Err(ResolveError::Url("no url".into())),
        };
        let mut headers = HeaderMap::new();
        for (name, source) in &self.headers {
            let header = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| ResolveError::Url(format!("`{name}` is not a header name")))?;
            let value = match source {
                HeaderSource::Text(text) => HeaderValue::from_str(text).ok(),
                HeaderSource::Secret(source) => {
                    let what = "a header value";
                    let value = match (&source.env, &source.file) {
                        (Some(var), _) => secret::from_env(var, what)?,
                        (None, Some(file)) => secret::from_file(file, what)?,
                        (None, None) => {
                            return Err(ResolveError::Url(format!("`{name}` names no source")));
                        }
                    };
                    secrets.push(value.clone());
                    let mut value =
                        HeaderValue::from_str(&format!("{}{}", source.prefix, value.expose()))
                            .map_err(|_| ResolveError::BadValue(name.clone()))?;
                    // Keeps it out of reqwest's and hyper's debug output.
                    value.set_sensitive(true);
                    Some(value)
                }
            };
            headers.insert(
                header,
                value.ok_or_else(|| ResolveError::BadValue(name.clone()))?,
            );
        }
        Ok(Resolved {
            url,
            shown_url,
            headers,
            secrets,
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub(super) enum ResolveError {
    #[error(transparent)]
    Secret(#[from] SecretError),
    #[error("{0}")]
    Url(String),
    #[error("the value for header `{0}` has characters a header cannot carry (a newline?)")]
    BadValue(String),
}

/// `url` without its query (which may hold a signature): `https://host/path?…`.
pub(super) fn without_query(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn destination(toml_text: &str) -> HttpDestination {
        toml::from_str(toml_text).expect("parses")
    }

    #[test]
    fn credentials_written_in_the_file_are_refused() {
        let problems = destination(
            "url = \"https://x.example/{file}\"\nheaders = { Authorization = \"Bearer abc\", X-Api-Key = \"k\", X-Source = \"omnifeed\" }",
        )
        .problems();
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems.iter().all(|p| p.contains("env =")), "{problems:?}");
        let problems = destination("url = \"https://user:pw@x.example/f\"").problems();
        assert!(
            problems[0].contains("user name or password"),
            "{problems:?}"
        );
    }

    #[test]
    fn plain_http_needs_allow_http_and_one_url_is_required() {
        assert!(
            destination("url = \"http://x.example/{file}\"").problems()[0].contains("allow_http")
        );
        assert!(
            destination("url = \"http://x.example/{file}\"\nallow_http = true")
                .problems()
                .is_empty()
        );
        assert!(destination("method = \"POST\"").problems()[0].contains("url_env"));
        assert!(
            destination(
                "url = \"https://a/\"\nheaders = { Authorization = { prefix = \"Bearer \" } }"
            )
            .problems()[0]
                .contains("exactly one")
        );
    }

    #[test]
    fn headers_come_from_the_environment_with_their_prefix() {
        // SAFETY (edition 2024 `set_var`): a variable no other test reads.
        unsafe { std::env::set_var("OMNIFEED_TEST_HTTP_TOKEN", "t0k3n") };
        let resolved = destination(
            "url = \"https://x.example/up/{file}?sig=abc\"\nheaders = { Authorization = { env = \"OMNIFEED_TEST_HTTP_TOKEN\", prefix = \"Bearer \" } }",
        )
        .resolve()
        .expect("resolves");
        assert_eq!(resolved.headers["authorization"], "Bearer t0k3n");
        assert!(resolved.headers["authorization"].is_sensitive());
        assert_eq!(resolved.shown_url, "https://x.example/up/{file}?…");
        assert_eq!(resolved.secrets[0].expose(), "t0k3n");
    }
}
