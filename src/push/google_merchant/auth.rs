//! Service-account authentication: an RS256 JWT signed with the key file's private key is
//! exchanged at the token endpoint for an access token (RFC 7523 JWT bearer grant). The
//! token is cached, replaced a few minutes before it expires, and replaced at once when the
//! API answers 401. The private key and the tokens are [`Secret`]s: never printed.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::push::secret::{Secret, from_file};
pub(super) use crate::push::token_cache::TokenError;
use crate::push::token_cache::{Fetched, TokenCache};
use serde::{Deserialize, Serialize};

/// The OAuth scope of the Merchant API.
pub(super) const SCOPE: &str = "https://www.googleapis.com/auth/content";

/// The fields of a service-account JSON key that the exchange needs.
#[derive(Deserialize)]
struct KeyFile {
    #[serde(rename = "type")]
    kind: Option<String>,
    client_email: String,
    private_key: String,
    private_key_id: Option<String>,
    token_uri: Option<String>,
}

/// A service account's key, read from its JSON key file.
pub(super) struct ServiceAccount {
    email: String,
    key_id: Option<String>,
    key: jsonwebtoken::EncodingKey,
    /// Where the JWT is exchanged; also its audience.
    token_url: String,
}

impl ServiceAccount {
    /// Reads the key file at `path`; `token_url` replaces the file's `token_uri`. Errors
    /// name the file, never its content.
    pub(super) fn from_file(
        path: &Path,
        token_url: Option<&str>,
    ) -> Result<ServiceAccount, String> {
        let text = from_file(path, "service-account key").map_err(|err| format!("{err:#}"))?;
        let file: KeyFile = serde_json::from_str(text.expose()).map_err(|err| {
            // serde's message for a missing field names the field; other messages may quote
            // part of the file, which holds the private key, so they are not shown.
            let why = err.to_string();
            let why = if why.starts_with("missing field") {
                why
            } else {
                format!("not the JSON of a key, at line {}", err.line())
            };
            format!(
                "`{}` is not a service-account JSON key ({why}); download one in the Google \
                 Cloud console: IAM > Service accounts > Keys > Add key > JSON",
                path.display(),
            )
        })?;
        if let Some(kind) = &file.kind
            && kind != "service_account"
        {
            return Err(format!(
                "`{}` is a `{kind}` credential, not a service-account key (\"type\": \"service_account\")",
                path.display()
            ));
        }
        let private_key = Secret::new(file.private_key);
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key.expose().as_bytes())
            .map_err(|_| {
                format!(
                    "`{}`: private_key is not an RSA private key in PEM form",
                    path.display()
                )
            })?;
        let token_url = match (token_url, file.token_uri) {
            (Some(url), _) => url.to_owned(),
            (None, Some(url)) => url,
            (None, None) => {
                return Err(format!(
                    "`{}` has no token_uri; set token_url in [destination]",
                    path.display()
                ));
            }
        };
        crate::push::endpoint::checked_url(&token_url)
            .map_err(|why| format!("token URL {token_url:?}: {why}"))?;
        Ok(ServiceAccount {
            email: file.client_email,
            key_id: file.private_key_id,
            key,
            token_url,
        })
    }

    /// A fresh signed assertion, valid for one hour from now.
    fn assertion(&self) -> Result<Secret, String> {
        #[derive(Serialize)]
        struct Claims<'a> {
            iss: &'a str,
            scope: &'a str,
            aud: &'a str,
            iat: u64,
            exp: u64,
        }
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = self.key_id.clone();
        let claims = Claims {
            iss: &self.email,
            scope: SCOPE,
            aud: &self.token_url,
            iat: now,
            exp: now + 3600,
        };
        jsonwebtoken::encode(&header, &claims, &self.key)
            .map(Secret::new)
            .map_err(|err| format!("cannot sign the token request: {err}"))
    }
}

/// What the token endpoint answers.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

/// Access tokens for one service account, fetched when needed and shared by every request.
pub(super) struct Tokens {
    account: ServiceAccount,
    client: reqwest::Client,
    cache: TokenCache,
}

impl Tokens {
    pub(super) fn new(account: ServiceAccount, client: reqwest::Client) -> Tokens {
        Tokens {
            account,
            client,
            cache: TokenCache::default(),
        }
    }

    /// A valid token: the cached one, or a new one. `stale` is a token the API refused
    /// (401): it is replaced unless another request has replaced it already.
    pub(super) async fn get(&self, stale: Option<&Secret>) -> Result<Secret, TokenError> {
        self.cache.get(stale, || self.fetch()).await
    }

    async fn fetch(&self) -> Result<Fetched, TokenError> {
        let refused = |message: String| TokenError {
            message,
            transient: false,
        };
        let assertion = self.account.assertion().map_err(refused)?;
        let url = &self.account.token_url;
        let answer = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded",
            )
            .body(
                url::form_urlencoded::Serializer::new(String::new())
                    .append_pair("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")
                    .append_pair("assertion", assertion.expose())
                    .finish(),
            )
            .send()
            .await
            .map_err(|err| TokenError {
                message: format!(
                    "the token endpoint {url} did not answer: {}",
                    err_chain(&err)
                ),
                transient: true,
            })?;
        let status = answer.status();
        let body = answer.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(TokenError {
                message: format!(
                    "the token endpoint {url} refused the service account {} ({status}: {}); \
                     check that the key is current and not deleted",
                    self.account.email,
                    short(&body)
                ),
                transient: status.is_server_error() || status.as_u16() == 429,
            });
        }
        let answer: TokenAnswer = serde_json::from_str(&body).map_err(|_| {
            refused(format!(
                "the token endpoint {url} answered {status} without an access_token"
            ))
        })?;
        Ok(Fetched::new(
            answer.access_token,
            Duration::from_secs(answer.expires_in.unwrap_or(3600)),
        ))
    }
}

/// An error and its causes on one line (reqwest hides the useful part in the sources).
pub(super) fn err_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// The start of an error body, for a message (a token endpoint's error body holds no
/// secret: the request's secrets are never echoed).
pub(super) fn short(body: &str) -> String {
    let body = body.trim();
    match body.char_indices().nth(300) {
        Some((cut, _)) => format!("{}…", &body[..cut]),
        None => body.to_owned(),
    }
}
