//! Production readiness of an integration: a scored checklist (credentials, HTTPS, health
//! check configured and passing, retry policy, rate limit, no firing critical alert,
//! recent success rate), each check with its detail.

use async_graphql::SimpleObject;

use super::access::Caller;
use super::alerts::Severity;
use super::health::HealthStatus;
use super::integrations::Integration;
use super::{AuthKind, PageRequest};
use crate::error::{AppError, AppResult};
use crate::store::Store;

/// One check of the list.
#[derive(Debug, Clone, SimpleObject)]
pub struct ReadinessCheck {
    pub name: String,
    pub passed: bool,
    /// CRITICAL checks must pass for the integration to be ready.
    pub severity: Severity,
    pub detail: String,
}

/// The checklist and its score.
#[derive(Debug, Clone, SimpleObject)]
pub struct Readiness {
    /// 0-100: passed checks weighted by severity (CRITICAL 3, WARNING 2, INFO 1).
    pub score: i32,
    /// Every CRITICAL check passes.
    pub passed: bool,
    pub checks: Vec<ReadinessCheck>,
}

fn check(
    name: &str,
    passed: bool,
    severity: Severity,
    detail: impl Into<String>,
) -> ReadinessCheck {
    ReadinessCheck {
        name: name.to_owned(),
        passed,
        severity,
        detail: detail.into(),
    }
}

/// Scores a checklist.
pub fn score(checks: Vec<ReadinessCheck>) -> Readiness {
    let weight = |c: &ReadinessCheck| match c.severity {
        Severity::Critical => 3,
        Severity::Warning => 2,
        Severity::Info => 1,
    };
    let total: i32 = checks.iter().map(weight).sum();
    let passed_weight: i32 = checks.iter().filter(|c| c.passed).map(weight).sum();
    Readiness {
        score: if total == 0 {
            100
        } else {
            (100 * passed_weight + total / 2) / total
        },
        passed: checks
            .iter()
            .all(|c| c.passed || c.severity != Severity::Critical),
        checks,
    }
}

/// The readiness of an integration the caller holds.
pub async fn of(store: &Store, caller: &Caller, integration: &Integration) -> AppResult<Readiness> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    let mut checks = Vec::new();
    let credentials = super::credentials::info(store, &integration.id).await?;
    checks.push(match (&credentials, integration.auth_kind) {
        (Some(info), _) => check(
            "credentials",
            true,
            Severity::Critical,
            format!(
                "{} credentials set ({})",
                info.kind.as_str(),
                info.set_fields.join(", ")
            ),
        ),
        (None, AuthKind::None) => check(
            "credentials",
            false,
            Severity::Warning,
            "no credentials: fine only for public APIs",
        ),
        (None, kind) => check(
            "credentials",
            false,
            Severity::Critical,
            format!("auth kind {} but no credentials set", kind.as_str()),
        ),
    });
    if let Some(info) = &credentials {
        let soon = chrono::Utc::now() + chrono::Duration::days(7);
        let (ok, detail) = match (&info.refresh_error, info.expires_at) {
            (Some(error), _) => (false, format!("the last refresh failed: {error}")),
            (None, Some(at)) if at < soon && info.kind != AuthKind::Oauth2 => {
                (false, format!("expire at {at}, within 7 days"))
            }
            (None, Some(at)) => (
                true,
                format!("valid until {at} (OAuth2 refreshes by itself)"),
            ),
            (None, None) => (true, "no expiry".to_owned()),
        };
        checks.push(check("credentials_fresh", ok, Severity::Warning, detail));
    }
    let https = integration
        .base_url
        .as_deref()
        .is_some_and(|u| u.starts_with("https://"));
    checks.push(check(
        "https",
        https,
        Severity::Critical,
        match integration.base_url.as_deref() {
            Some(url) if https => format!("{url} is HTTPS"),
            Some(url) => format!("{url} is not HTTPS: credentials and data travel in clear"),
            None => "no base URL".to_owned(),
        },
    ));
    let health_check = integration.call_options.health_check.as_ref();
    checks.push(check(
        "health_check",
        health_check.is_some(),
        Severity::Warning,
        match health_check {
            Some(c) => format!(
                "{} {} every {} s",
                c.method.as_str(),
                c.path,
                c.interval_seconds
            ),
            None => "no scheduled health check: problems show only when calls fail".to_owned(),
        },
    ));
    let state = super::health::states_unchecked(store, std::slice::from_ref(&integration.id))
        .await?
        .pop();
    let status = state.as_ref().map_or(HealthStatus::Unknown, |s| s.status);
    checks.push(check(
        "health_passing",
        status == HealthStatus::Healthy,
        Severity::Critical,
        match &state {
            Some(s) => format!(
                "{}{}",
                status.as_str(),
                s.reason
                    .as_deref()
                    .map(|r| format!(": {r}"))
                    .unwrap_or_default()
            ),
            None => "UNKNOWN: not checked yet".to_owned(),
        },
    ));
    let retries = integration.retry_policy.max_retries;
    checks.push(check(
        "retry_policy",
        retries > 0,
        Severity::Info,
        format!("{retries} retries with backoff"),
    ));
    checks.push(check(
        "rate_limit",
        integration.rate_limit.is_some(),
        Severity::Info,
        match &integration.rate_limit {
            Some(limit) => format!(
                "{} requests/minute, burst {}",
                limit.requests_per_minute, limit.burst
            ),
            None => "no rate limit: a burst of calls can exhaust the provider's quota".to_owned(),
        },
    ));
    let firing = super::alerts::of_integration(
        store,
        caller,
        integration,
        Some(super::alerts::AlertState::Firing),
        &PageRequest {
            limit: 100,
            ..PageRequest::default()
        },
    )
    .await?;
    let critical = firing
        .rows
        .iter()
        .filter(|a| a.severity == Severity::Critical)
        .count();
    checks.push(check(
        "no_critical_alert",
        critical == 0,
        Severity::Critical,
        if critical == 0 {
            "no CRITICAL alert firing".to_owned()
        } else {
            format!("{critical} CRITICAL alert(s) firing")
        },
    ));
    let figures = super::health::figures_unchecked(
        store,
        std::slice::from_ref(&integration.id),
        super::health::HealthWindow::Day,
    )
    .await?
    .remove(&integration.id)
    .unwrap_or_default();
    let calls = figures.calls;
    let success = (calls > 0).then(|| 1.0 - figures.call_failures as f64 / calls as f64);
    checks.push(check(
        "recent_success_rate",
        success.is_none_or(|rate| rate >= 0.95),
        Severity::Warning,
        match success {
            Some(rate) => format!(
                "{:.1} % of {calls} calls in the last day without an upstream fault (needs 95 %)",
                rate * 100.0
            ),
            None => "no calls in the last day".to_owned(),
        },
    ));
    Ok(score(checks))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_score_weighs_severity_and_critical_checks_decide() {
        let all = score(vec![
            check("a", true, Severity::Critical, ""),
            check("b", false, Severity::Info, ""),
        ]);
        assert_eq!(all.score, 75);
        assert!(all.passed);
        let failing = score(vec![
            check("a", false, Severity::Critical, ""),
            check("b", true, Severity::Warning, ""),
        ]);
        assert_eq!(failing.score, 40);
        assert!(!failing.passed);
    }
}
