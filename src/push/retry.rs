//! Retries shared by every network transport: exponential backoff with jitter on transient
//! failures (connection errors, timeouts, 429, 5xx), the server's `Retry-After` honoured
//! when it gives one, and no retry at all on what a retry cannot fix (authentication, other
//! 4xx, a refused host key).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};

/// What a failed attempt calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Transient: try again after the backoff delay.
    Retry,
    /// Transient, and the server said when (`Retry-After`).
    RetryAfter(Duration),
    /// Permanent: give up now.
    Fatal,
}

/// An error that knows whether trying again can help.
pub trait Transient {
    fn verdict(&self) -> Verdict;
}

/// How often and how long to retry.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// A `Retry-After` longer than this is cut to it, so one answer cannot stall a run.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            retries: 5,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
        }
    }
}

/// A failed call to a channel API: what to say, and whether to retry it. Shared by the
/// item-level transports whose failures carry nothing else.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub message: String,
    pub verdict: Verdict,
}

impl Transient for ApiFailure {
    fn verdict(&self) -> Verdict {
        self.verdict
    }
}

impl ApiFailure {
    pub fn retry(message: String) -> ApiFailure {
        ApiFailure {
            message,
            verdict: Verdict::Retry,
        }
    }

    pub fn fatal(message: String) -> ApiFailure {
        ApiFailure {
            message,
            verdict: Verdict::Fatal,
        }
    }

    /// Fatal for the whole feed, not just this call.
    pub fn is_fatal(&self) -> bool {
        self.verdict == Verdict::Fatal
    }
}

impl RetryPolicy {
    /// The default policy with a destination's own `retries`, when it sets one.
    pub fn with_retries(retries: Option<usize>) -> RetryPolicy {
        let default = RetryPolicy::default();
        RetryPolicy {
            retries: retries.unwrap_or(default.retries),
            ..default
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or the retries are spent; the
    /// last error is returned. `on_retry` hears each error that is retried and the wait.
    pub async fn run<T, E, Fut>(
        &self,
        attempt: impl FnMut() -> Fut,
        mut on_retry: impl FnMut(&E, Duration),
    ) -> Result<T, E>
    where
        E: Transient,
        Fut: Future<Output = Result<T, E>>,
    {
        let backoff = ExponentialBuilder::default()
            .with_min_delay(self.min_delay)
            .with_max_delay(self.max_delay)
            .with_max_times(self.retries)
            .with_jitter();
        let cap = self.max_retry_after;
        attempt
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|err: &E| err.verdict() != Verdict::Fatal)
            // The server's own wait wins over ours; `None` (retries spent) stays `None`.
            .adjust(move |err: &E, ours| match (err.verdict(), ours) {
                (Verdict::RetryAfter(theirs), Some(_)) => Some(theirs.min(cap)),
                (_, ours) => ours,
            })
            .notify(|err: &E, wait| on_retry(err, wait))
            .await
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP date (RFC 9110
/// 10.2.3), measured from `now`. A date in the past means "now".
pub fn parse_retry_after(value: &str, now: jiff::Timestamp) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = jiff::fmt::rfc2822::parse(value).ok()?.timestamp();
    let wait = date.duration_since(now);
    Some(Duration::try_from(wait).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[derive(Debug)]
    struct Failure(Verdict);

    impl Transient for Failure {
        fn verdict(&self) -> Verdict {
            self.0
        }
    }

    fn policy() -> RetryPolicy {
        RetryPolicy {
            retries: 3,
            min_delay: Duration::from_secs(1),
            max_delay: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(60),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn transient_failures_are_retried_then_succeed() {
        let calls = AtomicUsize::new(0);
        let result = policy()
            .run(
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 | 1 => Err(Failure(Verdict::Retry)),
                        _ => Ok("done"),
                    }
                },
                |_, _| {},
            )
            .await;
        assert_eq!(result.unwrap(), "done");
        assert_eq!(calls.load(Ordering::SeqCst), 3);
    }

    #[tokio::test(start_paused = true)]
    async fn a_fatal_failure_is_not_retried() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = policy()
            .run(
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(Failure(Verdict::Fatal))
                },
                |_, _| {},
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn retry_after_sets_the_wait_capped() {
        let calls = AtomicUsize::new(0);
        let mut waits = Vec::new();
        let started = tokio::time::Instant::now();
        let result = policy()
            .run(
                || async {
                    match calls.fetch_add(1, Ordering::SeqCst) {
                        0 => Err(Failure(Verdict::RetryAfter(Duration::from_secs(42)))),
                        1 => Err(Failure(Verdict::RetryAfter(Duration::from_secs(3600)))),
                        _ => Ok(()),
                    }
                },
                |_, wait| waits.push(wait),
            )
            .await;
        assert!(result.is_ok());
        assert_eq!(waits, [Duration::from_secs(42), Duration::from_secs(60)]);
        // The paused clock moved by exactly the waits: nothing slept for real.
        assert_eq!(started.elapsed(), Duration::from_secs(102));
    }

    #[tokio::test(start_paused = true)]
    async fn retries_are_spent_and_the_last_error_returned() {
        let calls = AtomicUsize::new(0);
        let result: Result<(), _> = policy()
            .run(
                || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Err(Failure(Verdict::Retry))
                },
                |_, _| {},
            )
            .await;
        assert!(result.is_err());
        assert_eq!(calls.load(Ordering::SeqCst), 4);
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now: jiff::Timestamp = "2026-11-29T12:00:00Z".parse().unwrap();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 12:00:30 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 29 Nov 2026 11:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }
}
