//! When a failed attempt is repeated and how long to wait first: backon's exponential
//! schedule within the integration's retry policy, with full jitter, overridden by the
//! upstream's own wait (`Retry-After`, rate-limit reset) up to a configured maximum.

use std::time::Duration;

use backon::{BackoffBuilder, ExponentialBuilder};
use rand::Rng;

use super::classify::{CallError, ErrorClass};
use super::policy::{HttpMethod, RetryPolicy};

/// Network failures, timeouts, 429 and 502/503/504 are retried; other 5xx only when
/// repeating is safe (idempotent method or an idempotency key).
pub fn retryable(
    answer: &Result<u16, &CallError>,
    method: HttpMethod,
    has_idempotency_key: bool,
) -> bool {
    match answer {
        Err(err) => matches!(err.class, ErrorClass::Network | ErrorClass::Timeout),
        Ok(status) => match status {
            429 | 502..=504 => true,
            501 | 505 => false,
            500..=599 => method.idempotent() || has_idempotency_key,
            _ => false,
        },
    }
}

/// What to do before the next attempt.
#[derive(Debug, PartialEq, Eq)]
pub enum Wait {
    Sleep(Duration),
    /// The policy's retries are used up.
    GiveUp,
    /// The upstream asks for a longer wait than a caller is held for.
    TooLong(Duration),
}

/// The retry schedule of one call.
pub struct Backoff {
    schedule: backon::ExponentialBackoff,
    max_upstream_wait: Duration,
}

impl Backoff {
    /// `enabled: false` never retries.
    pub fn new(policy: &RetryPolicy, enabled: bool, max_upstream_wait: Duration) -> Self {
        let schedule = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(policy.base_delay_ms.max(1) as u64))
            .with_max_delay(Duration::from_millis(policy.max_delay_ms.max(1) as u64))
            .with_factor(2.0)
            .with_max_times(if enabled {
                policy.max_retries.max(0) as usize
            } else {
                0
            })
            .build();
        Backoff {
            schedule,
            max_upstream_wait,
        }
    }

    /// The wait before the next attempt; `upstream` is the wait the upstream asked for.
    pub fn next_wait(&mut self, upstream: Option<Duration>) -> Wait {
        let Some(delay) = self.schedule.next() else {
            return Wait::GiveUp;
        };
        match upstream {
            Some(wait) if wait > self.max_upstream_wait => Wait::TooLong(wait),
            Some(wait) => Wait::Sleep(wait),
            None => Wait::Sleep(full_jitter(delay)),
        }
    }
}

/// A random delay in `[0, cap]` ("full jitter": spreads retries of many callers).
fn full_jitter(cap: Duration) -> Duration {
    let millis = cap.as_millis().min(u128::from(u64::MAX)) as u64;
    Duration::from_millis(rand::rng().random_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_the_cap() {
        for _ in 0..1000 {
            assert!(full_jitter(Duration::from_millis(50)) <= Duration::from_millis(50));
        }
        assert_eq!(full_jitter(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn the_policy_bounds_the_retries_and_long_upstream_waits_end_the_call() {
        let policy = RetryPolicy {
            max_retries: 2,
            base_delay_ms: 10,
            max_delay_ms: 20,
        };
        let mut backoff = Backoff::new(&policy, true, Duration::from_secs(5));
        assert!(
            matches!(backoff.next_wait(None), Wait::Sleep(d) if d <= Duration::from_millis(20))
        );
        assert_eq!(
            backoff.next_wait(Some(Duration::from_secs(60))),
            Wait::TooLong(Duration::from_secs(60))
        );
        assert_eq!(backoff.next_wait(None), Wait::GiveUp);
        assert_eq!(
            Backoff::new(&policy, false, Duration::ZERO).next_wait(None),
            Wait::GiveUp
        );
    }

    #[test]
    fn only_safe_failures_are_retried() {
        let timeout = CallError::new(ErrorClass::Timeout, "slow");
        assert!(retryable(&Err(&timeout), HttpMethod::Post, false));
        assert!(retryable(&Ok(503), HttpMethod::Post, false));
        assert!(!retryable(&Ok(500), HttpMethod::Post, false));
        assert!(retryable(&Ok(500), HttpMethod::Post, true));
        assert!(retryable(&Ok(500), HttpMethod::Get, false));
        assert!(!retryable(&Ok(404), HttpMethod::Get, false));
    }
}
