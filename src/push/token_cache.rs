//! The access token an API transport sends with every request (Google's OAuth token from a
//! service account, Amazon's from Login with Amazon): fetched when first needed, shared by
//! every request of the run, replaced a few minutes before it expires and at once when the
//! API refuses it. How a token is fetched is each channel's own.

use std::future::Future;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::push::secret::Secret;

/// A token is replaced this long before the channel says it expires, so no request goes
/// out with one about to lapse.
const EXPIRY_MARGIN: Duration = Duration::from_secs(300);

/// A token with the instant it must be replaced.
pub(crate) struct Fetched {
    token: Secret,
    replace_at: Instant,
}

impl Fetched {
    /// A token that lives `lifetime` from now. A short-lived one (a test server's) is
    /// replaced at half its life.
    pub(crate) fn new(token: String, lifetime: Duration) -> Fetched {
        Fetched {
            token: Secret::new(token),
            replace_at: Instant::now() + lifetime.saturating_sub(EXPIRY_MARGIN.min(lifetime / 2)),
        }
    }
}

/// Why no token could be had. `transient` failures (the endpoint unreachable, 429, 5xx)
/// are worth a retry; a refusal is not.
#[derive(Debug)]
pub(crate) struct TokenError {
    pub(crate) message: String,
    pub(crate) transient: bool,
}

/// The current token of one set of credentials.
#[derive(Default)]
pub(crate) struct TokenCache {
    cached: Mutex<Option<Fetched>>,
}

impl TokenCache {
    /// A valid token: the cached one, or a new one from `fetch`. `stale` is a token the
    /// API refused (401): it is replaced unless another request has replaced it already.
    pub(crate) async fn get<F: Future<Output = Result<Fetched, TokenError>>>(
        &self,
        stale: Option<&Secret>,
        fetch: impl FnOnce() -> F,
    ) -> Result<Secret, TokenError> {
        let mut cached = self.cached.lock().await;
        if let Some(current) = cached.as_ref()
            && Instant::now() < current.replace_at
            && stale != Some(&current.token)
        {
            return Ok(current.token.clone());
        }
        let fetched = fetch().await?;
        let token = fetched.token.clone();
        *cached = Some(fetched);
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(future: impl Future<Output = T>) -> T {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
            .block_on(future)
    }

    /// The cached token serves until the API refuses it; a refusal of a token already
    /// replaced does not fetch again; a short-lived token is replaced at half its life.
    #[test]
    fn a_token_is_fetched_once_and_replaced_when_refused_or_due() {
        run(async {
            let cache = TokenCache::default();
            let fetches = std::cell::Cell::new(0);
            let fetch = |life: u64| {
                let fetches = &fetches;
                move || async move {
                    fetches.set(fetches.get() + 1);
                    Ok(Fetched::new(
                        format!("t{}", fetches.get()),
                        Duration::from_secs(life),
                    ))
                }
            };
            let first = cache.get(None, fetch(3600)).await.expect("token");
            assert_eq!(first.expose(), "t1");
            assert_eq!(cache.get(None, fetch(3600)).await.unwrap().expose(), "t1");
            let second = cache.get(Some(&first), fetch(3600)).await.unwrap();
            assert_eq!(second.expose(), "t2");
            // Another request still holding the first token: no third fetch.
            assert_eq!(
                cache.get(Some(&first), fetch(3600)).await.unwrap().expose(),
                "t2"
            );
            assert_eq!(fetches.get(), 2);
            // Two seconds to live: replaced after one.
            let short = TokenCache::default();
            short.get(None, fetch(2)).await.unwrap();
            assert_eq!(short.get(None, fetch(2)).await.unwrap().expose(), "t3");
            tokio::time::sleep(Duration::from_millis(1100)).await;
            assert_eq!(short.get(None, fetch(2)).await.unwrap().expose(), "t4");
        });
    }
}
