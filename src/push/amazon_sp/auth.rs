//! Login with Amazon: the seller's refresh token, with the LWA app's client id and secret,
//! is exchanged for an access token (`grant_type=refresh_token`) that every SP-API call
//! carries as `x-amz-access-token`. The token is cached, replaced a few minutes before it
//! expires, and replaced at once when the API refuses it. Credentials and tokens are
//! [`Secret`]s: never printed.

use std::time::Duration;

use serde::Deserialize;

use crate::push::secret::Secret;
pub(super) use crate::push::token_cache::TokenError;
use crate::push::token_cache::{Fetched, TokenCache};

/// The LWA app's credentials and the seller's authorization.
pub(super) struct Credentials {
    pub(super) client_id: Secret,
    pub(super) client_secret: Secret,
    pub(super) refresh_token: Secret,
    pub(super) token_url: String,
}

#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
    expires_in: Option<u64>,
}

/// LWA's error body: `{"error": "invalid_grant", "error_description": "…"}`.
#[derive(Deserialize)]
struct TokenRefusal {
    error: Option<String>,
    error_description: Option<String>,
}

/// Access tokens for one seller, fetched when needed and shared by every request.
pub(super) struct Tokens {
    credentials: Credentials,
    client: reqwest::Client,
    cache: TokenCache,
}

impl Tokens {
    pub(super) fn new(credentials: Credentials, client: reqwest::Client) -> Tokens {
        Tokens {
            credentials,
            client,
            cache: TokenCache::default(),
        }
    }

    /// A valid token: the cached one, or a new one. `stale` is a token the API refused: it
    /// is replaced unless another request has replaced it already.
    pub(super) async fn get(&self, stale: Option<&Secret>) -> Result<Secret, TokenError> {
        self.cache.get(stale, || self.fetch()).await
    }

    async fn fetch(&self) -> Result<Fetched, TokenError> {
        let url = &self.credentials.token_url;
        let form = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "refresh_token")
            .append_pair("refresh_token", self.credentials.refresh_token.expose())
            .append_pair("client_id", self.credentials.client_id.expose())
            .append_pair("client_secret", self.credentials.client_secret.expose())
            .finish();
        let answer = self
            .client
            .post(url)
            .header(
                reqwest::header::CONTENT_TYPE,
                "application/x-www-form-urlencoded;charset=UTF-8",
            )
            .body(form)
            .send()
            .await
            .map_err(|err| TokenError {
                message: format!(
                    "the LWA token endpoint {url} did not answer: {}",
                    crate::push::error_chain(&err)
                ),
                transient: true,
            })?;
        let status = answer.status();
        let body = answer.bytes().await.map_err(|err| TokenError {
            message: format!(
                "the LWA token endpoint {url}: the answer was cut off: {}",
                crate::push::error_chain(&err)
            ),
            transient: true,
        })?;
        if status == reqwest::StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            return Err(TokenError {
                message: format!("the LWA token endpoint {url} answered {status}"),
                transient: true,
            });
        }
        if !status.is_success() {
            // LWA's error body names the problem and never echoes the secrets sent.
            let why = match serde_json::from_slice::<TokenRefusal>(&body) {
                Ok(TokenRefusal {
                    error,
                    error_description,
                }) => [error, error_description]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join(": "),
                Err(_) => String::new(),
            };
            return Err(TokenError {
                message: format!(
                    "the LWA token endpoint {url} refused the credentials ({status}{}{why}); \
                     check the LWA app's client id and secret and that the seller's refresh \
                     token is current (Seller Central: Apps and Services > Develop Apps)",
                    if why.is_empty() { "" } else { ": " }
                ),
                transient: false,
            });
        }
        let answer: TokenAnswer = serde_json::from_slice(&body).map_err(|_| TokenError {
            message: format!("the LWA token endpoint {url} answered without an access_token"),
            transient: false,
        })?;
        Ok(Fetched::new(
            answer.access_token,
            Duration::from_secs(answer.expires_in.unwrap_or(3600)),
        ))
    }
}
