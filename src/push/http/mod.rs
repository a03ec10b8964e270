//! `[destination] kind = "http"`: each feed file sent with PUT or POST to a URL, for
//! receivers that take uploads over HTTPS (a presigned bucket URL, a merchant's own
//! endpoint). The file counts as delivered on a `2xx` answer only; a cut or refused
//! request records nothing, and whatever the receiver keeps of a cut body is its own
//! affair (a presigned PUT stores nothing short of the declared length).

mod config;
mod request;
#[cfg(test)]
mod tests;

use std::path::PathBuf;

use config::{FILE_PLACEHOLDER, Resolved};
pub use config::{HeaderSource, HttpDestination, Method, SecretHeader};
use request::{FileRequest, send_with_retries};

use super::content_type::content_type;
use super::retry::RetryPolicy;
use super::{Delivery, NetRuntime, PushError, Transport};
use crate::feed::Feed;
use crate::report::progress::Progress;

pub struct HttpTransport {
    settings: HttpDestination,
    runtime: tokio::runtime::Handle,
    progress: Progress,
    retries: RetryPolicy,
}

impl HttpTransport {
    pub fn new(settings: HttpDestination, net: &NetRuntime) -> HttpTransport {
        HttpTransport {
            settings,
            runtime: net.handle().clone(),
            progress: net.progress(),
            retries: RetryPolicy::default(),
        }
    }

    fn resolve(&self, feed: &Feed) -> Result<Resolved, PushError> {
        self.settings.resolve().map_err(|err| match err {
            config::ResolveError::Secret(source) => PushError::Secret {
                feed: feed.id.clone(),
                source,
            },
            other => PushError::Destination {
                feed: feed.id.clone(),
                message: other.to_string(),
            },
        })
    }

    /// The client: verified TLS (with `ca_file`'s CAs added), the timeouts, no redirects
    /// (a body streamed from disk cannot be replayed to another address, and a redirect
    /// must not carry the credentials elsewhere).
    fn client(&self, feed: &Feed) -> Result<reqwest::Client, PushError> {
        let config_err = |message: String| PushError::Destination {
            feed: feed.id.clone(),
            message,
        };
        let mut builder = reqwest::Client::builder()
            .connect_timeout(self.settings.connect_timeout())
            .timeout(self.settings.timeout())
            .redirect(reqwest::redirect::Policy::none())
            .https_only(!self.settings.allow_http)
            .user_agent(concat!("omnifeed/", env!("CARGO_PKG_VERSION")));
        if let Some(ca_file) = &self.settings.ca_file {
            let pem = std::fs::read(ca_file).map_err(|err| {
                config_err(format!(
                    "cannot read ca_file `{}`: {err}",
                    ca_file.display()
                ))
            })?;
            let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| {
                config_err(format!(
                    "ca_file `{}` holds no PEM certificate ({err})",
                    ca_file.display()
                ))
            })?;
            if certificates.is_empty() {
                return Err(config_err(format!(
                    "ca_file `{}` holds no PEM certificate",
                    ca_file.display()
                )));
            }
            builder = builder.tls_certs_merge(certificates);
        }
        let _guard = self.runtime.enter();
        builder
            .build()
            .map_err(|err| config_err(format!("cannot set up the HTTP client: {err}")))
    }
}

/// `text` with every secret value replaced by `***`: a server may echo what it got.
fn redact(text: &str, secrets: &[super::secret::Secret]) -> String {
    secrets
        .iter()
        .filter(|s| !s.expose().is_empty())
        .fold(text.to_owned(), |text, secret| {
            text.replace(secret.expose(), "***")
        })
}

impl Transport for HttpTransport {
    fn target(&self) -> String {
        match (&self.settings.url, &self.settings.url_env) {
            (Some(url), _) => config::without_query(url),
            (None, Some(var)) => format!("the URL in ${var}"),
            (None, None) => "no URL".to_owned(),
        }
    }

    fn deliver(&self, feed: &Feed, files: &[PathBuf]) -> Result<Delivery, PushError> {
        let resolved = self.resolve(feed)?;
        let template = resolved.url.expose();
        if files.len() > 1
            && !template.contains(FILE_PLACEHOLDER)
            && self.settings.method == Method::Put
        {
            return Err(PushError::Destination {
                feed: feed.id.clone(),
                message: format!(
                    "the feed has {} parts, but url has no {FILE_PLACEHOLDER}: each PUT would \
                     replace the one before\n  hint: put {FILE_PLACEHOLDER} in the URL, e.g. \
                     https://feeds.example.com/{FILE_PLACEHOLDER}",
                    files.len()
                ),
            });
        }
        let client = self.client(feed)?;
        let method = self.settings.method.as_reqwest();
        let mut sizes = Vec::with_capacity(files.len());
        for staged in files {
            let size = std::fs::metadata(staged).map_err(|source| PushError::Io {
                feed: feed.id.clone(),
                path: staged.clone(),
                source,
            })?;
            sizes.push(size.len());
        }
        self.progress.start("upload", sizes.iter().sum());
        let result = self.runtime.block_on(async {
            let mut delivery = Delivery::default();
            for (staged, size) in files.iter().zip(sizes) {
                let name = staged
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let url = template.replace(FILE_PLACEHOLDER, &name);
                let shown = resolved.shown_url.replace(FILE_PLACEHOLDER, &name);
                let request = FileRequest {
                    client: &client,
                    method: method.clone(),
                    url: &url,
                    headers: &resolved.headers,
                    content_type: content_type(feed),
                    file: staged,
                };
                let on_retry = |failure: &request::Failure, wait: std::time::Duration| {
                    eprintln!(
                        "warning: feed `{}`: {method} {shown} {}; retrying in {:.1}s",
                        feed.id,
                        redact(&failure.to_string(), &resolved.secrets),
                        wait.as_secs_f64()
                    );
                };
                send_with_retries(
                    &request,
                    &self.retries,
                    &self.progress,
                    delivery.bytes,
                    on_retry,
                )
                .await
                .map_err(|failure| match failure {
                    request::Failure::Read(source) => PushError::Io {
                        feed: feed.id.clone(),
                        path: staged.clone(),
                        source,
                    },
                    failure => PushError::Remote {
                        feed: feed.id.clone(),
                        message: format!(
                            "{method} {shown} {}\n  hint: {}",
                            redact(&failure.to_string(), &resolved.secrets),
                            hint(&failure)
                        ),
                    },
                })?;
                delivery.bytes += size;
                delivery.files.push(PathBuf::from(shown));
            }
            Ok(delivery)
        });
        self.progress.finish();
        result
    }

    /// A web endpoint cannot be listed: the history check relies on the state alone.
    fn holds_feed(&self, _feed: &Feed) -> Result<bool, PushError> {
        Ok(false)
    }

    /// Reads the secrets and the CA file, then connects to the server's origin with a
    /// `HEAD /` (verifying TLS). Any HTTP answer proves the server reachable; nothing is
    /// sent to the upload URL itself (a presigned PUT URL refuses a HEAD anyway).
    fn check(&self, feed: &Feed) -> Result<Vec<String>, PushError> {
        let resolved = self.resolve(feed)?;
        let client = self.client(feed)?;
        let origin = url::Url::parse(&resolved.url.expose().replace(FILE_PLACEHOLDER, "f"))
            .map(|u| u.origin().ascii_serialization())
            .map_err(|err| PushError::Destination {
                feed: feed.id.clone(),
                message: format!("url is not a URL ({err})"),
            })?;
        let answer = self
            .runtime
            .block_on(client.head(&origin).send())
            .map_err(|err| PushError::Remote {
                feed: feed.id.clone(),
                message: format!("cannot reach {origin}: {err}"),
            })?;
        let mut lines = vec![format!(
            "{origin}: reachable{} (HEAD / answered {})",
            if origin.starts_with("https:") {
                ", certificate verified"
            } else {
                ""
            },
            answer.status()
        )];
        for (name, source) in &self.settings.headers {
            if let HeaderSource::Secret(_) = source {
                lines.push(format!("header {name}: value read (not shown)"));
            }
        }
        Ok(lines)
    }
}

fn hint(failure: &request::Failure) -> &'static str {
    use reqwest::StatusCode;
    match failure {
        request::Failure::Status { status, .. }
            if *status == StatusCode::UNAUTHORIZED || *status == StatusCode::FORBIDDEN =>
        {
            "the server refused the credentials (not retried): check the headers' variables, \
             or that a presigned URL has not expired"
        }
        request::Failure::Status { status, .. } if status.is_client_error() => {
            "the server refused the request (not retried): check url and method"
        }
        request::Failure::Redirect { .. } => "set url to the address the server redirects to",
        request::Failure::Tls(_) => {
            "the server's certificate is not trusted: name its CA in ca_file if it has a \
             private one"
        }
        _ => "the request was retried with backoff; the server stayed unreachable or busy",
    }
}
