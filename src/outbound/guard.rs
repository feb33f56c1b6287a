//! Per-integration protection: the token-bucket rate limit (governor), the hold learned
//! from an upstream's own rate-limit headers, and the circuit breaker.
//!
//! State lives in memory per process: several replicas each enforce the limit for their
//! own calls (the limit is per replica; documented in the README).

use std::collections::VecDeque;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::classify::{CallError, ErrorClass, parse_retry_after};
use super::policy::RateLimit;
use crate::config::OutboundConfig;

/// The longest hold an upstream's headers can impose.
const MAX_HOLD: Duration = Duration::from_secs(3600);

/// Protection state of one integration.
#[derive(Default)]
pub struct IntegrationGuard {
    limiter: Mutex<Option<(RateLimit, Arc<DefaultDirectRateLimiter>)>>,
    /// Calls wait until then: the upstream said its quota is spent.
    hold_until: Mutex<Option<Instant>>,
    breaker: Mutex<Breaker>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A panic while holding one of these leaves consistent plain data behind.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl IntegrationGuard {
    /// Waits for permission to send one request: first any upstream hold, then the
    /// integration's own rate limit; fails RATE_LIMITED when that would take longer than
    /// `max_wait`.
    pub async fn acquire(
        &self,
        limit: Option<&RateLimit>,
        max_wait: Duration,
    ) -> Result<(), CallError> {
        let started = Instant::now();
        let hold = *lock(&self.hold_until);
        if let Some(until) = hold {
            let wait = until.saturating_duration_since(Instant::now());
            if wait > max_wait {
                return Err(CallError::new(
                    ErrorClass::RateLimited,
                    "the upstream's rate limit is exhausted until its announced reset",
                )
                .retry_after(wait));
            }
            tokio::time::sleep(wait).await;
        }
        let Some(limit) = limit else { return Ok(()) };
        let limiter = self.limiter_for(limit);
        if let Err(not_until) = limiter.check() {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let remaining = max_wait.saturating_sub(started.elapsed());
            if wait > remaining
                || tokio::time::timeout(remaining, limiter.until_ready())
                    .await
                    .is_err()
            {
                return Err(CallError::new(
                    ErrorClass::RateLimited,
                    format!(
                        "the integration's rate limit ({} requests per minute) is reached",
                        limit.requests_per_minute
                    ),
                )
                .retry_after(wait.max(Duration::from_secs(1))));
            }
        }
        Ok(())
    }

    fn limiter_for(&self, limit: &RateLimit) -> Arc<DefaultDirectRateLimiter> {
        let mut slot = lock(&self.limiter);
        if let Some((current, limiter)) = slot.as_ref()
            && current == limit
        {
            return limiter.clone();
        }
        let per_minute = NonZeroU32::new(limit.requests_per_minute.max(1).unsigned_abs())
            .unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(limit.burst.max(1).unsigned_abs()).unwrap_or(NonZeroU32::MIN);
        let limiter = Arc::new(RateLimiter::direct(
            Quota::per_minute(per_minute).allow_burst(burst),
        ));
        *slot = Some((limit.clone(), limiter.clone()));
        limiter
    }

    /// Learns from an upstream answer: `Retry-After` on 429/503, and a spent quota in
    /// `x-ratelimit-remaining`/`ratelimit-remaining` with its reset. Later calls wait for
    /// the reset instead of running into 429s.
    pub fn learn(&self, status: u16, headers: &http::HeaderMap) -> Option<Duration> {
        let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let mut hold = None;
        if matches!(status, 429 | 503)
            && let Some(wait) = text("retry-after").and_then(parse_retry_after)
        {
            hold = Some(wait);
        }
        let remaining = text("x-ratelimit-remaining").or_else(|| text("ratelimit-remaining"));
        if remaining.and_then(|r| r.trim().parse::<f64>().ok()) == Some(0.0)
            && let Some(reset) = text("x-ratelimit-reset").or_else(|| text("ratelimit-reset"))
            && let Some(wait) = reset_wait(reset)
        {
            hold = Some(hold.map_or(wait, |h: Duration| h.max(wait)));
        }
        let wait = hold?.min(MAX_HOLD);
        let until = Instant::now() + wait;
        let mut slot = lock(&self.hold_until);
        if slot.is_none_or(|current| current < until) {
            *slot = Some(until);
        }
        Some(wait)
    }

    /// Asks the breaker to let an attempt through.
    pub fn admit(&self, config: &OutboundConfig) -> Result<Admission, CallError> {
        lock(&self.breaker).admit(config, Instant::now())
    }

    /// Tells the breaker how an attempt went (`None`: it says nothing about the
    /// upstream's health, such as a 429). Returns a state change, if any.
    pub fn record(
        &self,
        admission: Admission,
        upstream_fault: Option<bool>,
        config: &OutboundConfig,
    ) -> Option<CircuitChange> {
        let fault = upstream_fault?;
        lock(&self.breaker).record(admission, fault, config, Instant::now())
    }

    pub fn circuit_state(&self) -> CircuitState {
        lock(&self.breaker).state.public()
    }
}

/// Seconds until a rate-limit reset: epoch seconds (GitHub) or delta seconds (IETF draft).
fn reset_wait(value: &str) -> Option<Duration> {
    let number: f64 = value.trim().parse().ok()?;
    if !number.is_finite() || number < 0.0 {
        return None;
    }
    if number > 1_000_000_000.0 {
        let now = chrono::Utc::now().timestamp() as f64;
        return Some(Duration::from_secs_f64((number - now).max(0.0)));
    }
    Some(Duration::from_secs_f64(number))
}

/// How the breaker let an attempt through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Normal,
    /// The one trial call of a half-open circuit.
    Probe,
}

/// The circuit states as the API shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, async_graphql::Enum)]
pub enum CircuitState {
    Closed,
    Open,
    HalfOpen,
}

/// A state change worth logging and announcing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CircuitChange {
    Opened { reason: String },
    Closed,
}

#[derive(Debug, Default)]
enum State {
    #[default]
    Closed,
    Open {
        until: Instant,
    },
    HalfOpen {
        probe_since: Option<Instant>,
    },
}

impl State {
    fn public(&self) -> CircuitState {
        match self {
            State::Closed => CircuitState::Closed,
            State::Open { .. } => CircuitState::Open,
            State::HalfOpen { .. } => CircuitState::HalfOpen,
        }
    }
}

#[derive(Debug, Default)]
struct Breaker {
    state: State,
    consecutive_failures: u32,
    /// Outcomes of the last calls (true = failure), newest last.
    window: VecDeque<bool>,
}

impl Breaker {
    fn admit(&mut self, config: &OutboundConfig, now: Instant) -> Result<Admission, CallError> {
        match self.state {
            State::Closed => Ok(Admission::Normal),
            State::Open { until } if now < until => Err(open_error(until - now)),
            State::Open { .. } => {
                self.state = State::HalfOpen {
                    probe_since: Some(now),
                };
                Ok(Admission::Probe)
            }
            State::HalfOpen { probe_since } => match probe_since {
                // A probe whose caller vanished does not block the circuit forever.
                Some(since) if now.duration_since(since) < config.circuit_cooldown => {
                    Err(open_error(Duration::from_secs(1)))
                }
                _ => {
                    self.state = State::HalfOpen {
                        probe_since: Some(now),
                    };
                    Ok(Admission::Probe)
                }
            },
        }
    }

    fn record(
        &mut self,
        admission: Admission,
        failure: bool,
        config: &OutboundConfig,
        now: Instant,
    ) -> Option<CircuitChange> {
        if let State::HalfOpen { .. } = self.state {
            if admission != Admission::Probe {
                return None;
            }
            return if failure {
                self.trip(config, now);
                Some(CircuitChange::Opened {
                    reason: "the half-open probe failed".to_owned(),
                })
            } else {
                self.state = State::Closed;
                self.consecutive_failures = 0;
                self.window.clear();
                Some(CircuitChange::Closed)
            };
        }
        if let State::Open { .. } = self.state {
            return None;
        }
        self.window.push_back(failure);
        while self.window.len() > config.circuit_window as usize {
            self.window.pop_front();
        }
        if !failure {
            self.consecutive_failures = 0;
            return None;
        }
        self.consecutive_failures += 1;
        let failures = self.window.iter().filter(|f| **f).count();
        let judged = self.window.len() * 2 >= config.circuit_window as usize;
        let reason = if self.consecutive_failures >= config.circuit_failure_threshold {
            format!("{} consecutive failures", self.consecutive_failures)
        } else if judged
            && failures * 100 >= self.window.len() * config.circuit_failure_rate as usize
        {
            format!("{failures} of the last {} calls failed", self.window.len())
        } else {
            return None;
        };
        self.trip(config, now);
        Some(CircuitChange::Opened { reason })
    }

    fn trip(&mut self, config: &OutboundConfig, now: Instant) {
        self.state = State::Open {
            until: now + config.circuit_cooldown,
        };
        self.consecutive_failures = 0;
        self.window.clear();
    }
}

fn open_error(wait: Duration) -> CallError {
    CallError::new(
        ErrorClass::CircuitOpen,
        "the integration's circuit is open after repeated failures; calls are rejected until a probe succeeds",
    )
    .retry_after(wait.max(Duration::from_secs(1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> OutboundConfig {
        let mut config = crate::config::Config::from_settings(Default::default())
            .unwrap()
            .outbound;
        config.circuit_failure_threshold = 3;
        config.circuit_window = 10;
        config.circuit_failure_rate = 50;
        config.circuit_cooldown = Duration::from_secs(30);
        config
    }

    #[test]
    fn consecutive_failures_open_then_a_probe_closes() {
        let config = config();
        let mut breaker = Breaker::default();
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(breaker.record(Admission::Normal, true, &config, t0), None);
        }
        assert!(matches!(
            breaker.record(Admission::Normal, true, &config, t0),
            Some(CircuitChange::Opened { .. })
        ));
        let refused = breaker.admit(&config, t0 + Duration::from_secs(1));
        assert_eq!(refused.unwrap_err().class, ErrorClass::CircuitOpen);
        let probe_at = t0 + Duration::from_secs(31);
        assert_eq!(breaker.admit(&config, probe_at).unwrap(), Admission::Probe);
        // Only one probe at a time.
        assert!(breaker.admit(&config, probe_at).is_err());
        assert_eq!(
            breaker.record(Admission::Probe, false, &config, probe_at),
            Some(CircuitChange::Closed)
        );
        assert_eq!(breaker.admit(&config, probe_at).unwrap(), Admission::Normal);
    }

    #[test]
    fn a_failure_rate_over_the_window_opens() {
        let config = config();
        let mut breaker = Breaker::default();
        let now = Instant::now();
        let mut opened = false;
        for i in 0..10 {
            // Alternating: never 3 in a row, but half of all calls fail.
            if breaker
                .record(Admission::Normal, i % 2 == 0, &config, now)
                .is_some()
            {
                opened = true;
                break;
            }
        }
        assert!(opened);
    }

    #[test]
    fn spent_upstream_quota_holds_calls() {
        let guard = IntegrationGuard::default();
        let mut headers = http::HeaderMap::new();
        headers.insert("x-ratelimit-remaining", "0".parse().unwrap());
        headers.insert("x-ratelimit-reset", "2".parse().unwrap());
        assert_eq!(guard.learn(200, &headers), Some(Duration::from_secs(2)));
        let epoch = (chrono::Utc::now().timestamp() + 60).to_string();
        headers.insert("x-ratelimit-reset", epoch.parse().unwrap());
        let wait = guard.learn(200, &headers).unwrap();
        assert!(wait > Duration::from_secs(55) && wait <= Duration::from_secs(60));
        headers.insert("x-ratelimit-remaining", "5".parse().unwrap());
        assert_eq!(guard.learn(200, &headers), None);
    }
}
