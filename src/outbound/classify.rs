//! What went wrong with an outgoing call, and what to do about it.
//!
//! Every failure gets one [`ErrorClass`]; the class decides whether the engine retries,
//! whether it counts against the circuit breaker, which `extensions.code` the API
//! answers with, and the [`RecoveryAction`] a client is told to take.

use std::time::Duration;

use crate::store::stored_enum;

stored_enum! {
    /// The kind of failure of an outgoing call.
    ErrorClass {
        /// The upstream refused the credentials (401), or they could not be refreshed.
        Authentication,
        /// The credentials are valid but not allowed to do this (403).
        Authorization,
        /// No connection could be made or it broke.
        Network,
        /// The upstream did not answer within the timeout.
        Timeout,
        /// Too many calls: the integration's rate limit, or the upstream's (429).
        RateLimited,
        /// The integration's circuit breaker is open after repeated failures.
        CircuitOpen,
        /// The upstream rejected the request (4xx).
        ClientError,
        /// The upstream failed (5xx).
        ServerError,
        /// The answer could not be used (bad JSON, a failing transform, a redirect loop).
        InvalidResponse,
        /// The SSRF guard refused the address.
        Blocked,
    }
}

stored_enum! {
    /// What a client should do about a failed call.
    RecoveryAction {
        /// Try again (with backoff).
        Retry,
        /// Update or re-authorise the integration's credentials.
        RefreshCredentials,
        /// Fix the integration's settings or the request.
        CheckConfiguration,
        /// Wait (retryAfterSeconds says how long), then try again.
        Wait,
        /// A person has to look at it.
        NeedsAttention,
    }
}

impl ErrorClass {
    /// Whether trying again later can succeed without anyone changing anything.
    pub fn recoverable(self) -> bool {
        matches!(
            self,
            ErrorClass::Network
                | ErrorClass::Timeout
                | ErrorClass::RateLimited
                | ErrorClass::CircuitOpen
                | ErrorClass::ServerError
        )
    }

    pub fn recovery_action(self) -> RecoveryAction {
        match self {
            ErrorClass::Network | ErrorClass::Timeout | ErrorClass::ServerError => {
                RecoveryAction::Retry
            }
            ErrorClass::RateLimited | ErrorClass::CircuitOpen => RecoveryAction::Wait,
            ErrorClass::Authentication => RecoveryAction::RefreshCredentials,
            ErrorClass::Authorization | ErrorClass::ClientError | ErrorClass::Blocked => {
                RecoveryAction::CheckConfiguration
            }
            ErrorClass::InvalidResponse => RecoveryAction::NeedsAttention,
        }
    }

    /// The class of an upstream HTTP status, `None` for success (1xx-3xx).
    pub fn of_status(status: u16) -> Option<Self> {
        match status {
            401 => Some(ErrorClass::Authentication),
            403 => Some(ErrorClass::Authorization),
            429 => Some(ErrorClass::RateLimited),
            400..=499 => Some(ErrorClass::ClientError),
            500..=599 => Some(ErrorClass::ServerError),
            _ => None,
        }
    }

    /// Failures that say the upstream is unwell (the circuit breaker counts these).
    pub fn is_upstream_fault(self) -> bool {
        matches!(
            self,
            ErrorClass::Network | ErrorClass::Timeout | ErrorClass::ServerError
        )
    }

    /// The `extensions.code` of a call that failed without an upstream answer.
    pub fn api_code(self) -> &'static str {
        match self {
            ErrorClass::Blocked => "FORBIDDEN",
            ErrorClass::RateLimited => "RATE_LIMITED",
            _ => "UPSTREAM_ERROR",
        }
    }
}

/// A failed call (or attempt).
#[derive(Debug, Clone)]
pub struct CallError {
    pub class: ErrorClass,
    /// Says what happened; never holds a credential or a query string.
    pub message: String,
    /// How long to wait before trying again, when known.
    pub retry_after: Option<Duration>,
}

impl CallError {
    pub fn new(class: ErrorClass, message: impl Into<String>) -> Self {
        CallError {
            class,
            message: message.into(),
            retry_after: None,
        }
    }

    pub fn retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    /// Classifies a transport error. The URL is dropped from the message (its query may
    /// carry an API key); the cause chain is kept, and an SSRF refusal raised inside the
    /// client's resolver is reported as BLOCKED with its rule.
    pub fn from_transport(err: reqwest::Error) -> Self {
        let timeout = err.is_timeout();
        let err = err.without_url();
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&err);
        let mut chain: Vec<String> = Vec::new();
        while let Some(current) = source {
            if let Some(refused) = current.downcast_ref::<super::ssrf::SsrfError>() {
                return CallError::new(ErrorClass::Blocked, refused.to_string());
            }
            let text = current.to_string();
            if chain.last() != Some(&text) {
                chain.push(text);
            }
            source = current.source();
        }
        let class = if timeout {
            ErrorClass::Timeout
        } else {
            ErrorClass::Network
        };
        let message = if timeout {
            "the upstream did not answer in time".to_owned()
        } else {
            chain.join(": ")
        };
        CallError::new(class, message)
    }
}

/// Parses `Retry-After`: delta seconds or an HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    let wait = at.with_timezone(&chrono::Utc) - chrono::Utc::now();
    Some(wait.to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_classes_and_actions() {
        assert_eq!(ErrorClass::of_status(200), None);
        assert_eq!(ErrorClass::of_status(302), None);
        assert_eq!(ErrorClass::of_status(401), Some(ErrorClass::Authentication));
        assert_eq!(ErrorClass::of_status(403), Some(ErrorClass::Authorization));
        assert_eq!(ErrorClass::of_status(404), Some(ErrorClass::ClientError));
        assert_eq!(ErrorClass::of_status(429), Some(ErrorClass::RateLimited));
        assert_eq!(ErrorClass::of_status(503), Some(ErrorClass::ServerError));
        assert_eq!(
            ErrorClass::Authentication.recovery_action(),
            RecoveryAction::RefreshCredentials
        );
        assert!(ErrorClass::Timeout.recoverable());
        assert!(!ErrorClass::Blocked.recoverable());
        assert_eq!(ErrorClass::Blocked.api_code(), "FORBIDDEN");
        assert_eq!(ErrorClass::RateLimited.api_code(), "RATE_LIMITED");
        assert_eq!(ErrorClass::Network.api_code(), "UPSTREAM_ERROR");
    }

    #[test]
    fn retry_after_takes_seconds_and_dates() {
        assert_eq!(parse_retry_after("7"), Some(Duration::from_secs(7)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon"), None);
    }
}
