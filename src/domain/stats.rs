//! Stats: how a project (or, for an unscoped token, everything) is doing, in numbers:
//! integrations by status and health, calls and their success, webhooks and deliveries,
//! firing alerts. The `stats` subscription computes them once per scope and tick, however
//! many subscribers share it.

use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::access::Caller;
use super::executions::TimeWindow;
use crate::error::AppResult;
use crate::store::{Store, now, stats as stats_store};

/// A count under a name (a category, a status).
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
pub struct KeyCount {
    pub key: String,
    pub count: i64,
}

/// The numbers of a scope.
#[derive(Debug, Clone, PartialEq, async_graphql::SimpleObject)]
pub struct Stats {
    /// The project (null: every project the token sees; global for unscoped tokens).
    pub project_id: Option<async_graphql::ID>,
    /// The window `successRate`, `averageLatencyMs` and `apiCalls` cover.
    pub window: TimeWindow,
    pub integrations: i64,
    /// Enabled and ACTIVE: taking calls.
    pub active_integrations: i64,
    pub healthy_integrations: i64,
    pub degraded_integrations: i64,
    pub unhealthy_integrations: i64,
    /// Integrations without a health verdict yet.
    pub unknown_integrations: i64,
    /// Calls since midnight UTC.
    pub api_calls_today: i64,
    /// Calls in the window.
    pub api_calls: i64,
    /// Successful calls over all calls in the window, 0-1 (null without calls).
    pub success_rate: Option<f64>,
    pub average_latency_ms: Option<f64>,
    /// Webhook endpoints ACTIVE.
    pub webhooks_active: i64,
    /// Deliveries created since midnight UTC.
    pub deliveries_today: i64,
    /// Delivered over finished (delivered or failed) deliveries since midnight UTC.
    pub delivery_success_rate: Option<f64>,
    pub alerts_firing: i64,
    pub by_category: Vec<KeyCount>,
    pub by_status: Vec<KeyCount>,
    pub computed_at: DateTime<Utc>,
}

fn midnight() -> chrono::NaiveDateTime {
    now().date().and_hms_opt(0, 0, 0).unwrap_or_else(now)
}

fn counts(rows: Vec<(String, i64)>) -> Vec<KeyCount> {
    let mut out: Vec<KeyCount> = rows
        .into_iter()
        .map(|(key, count)| KeyCount { key, count })
        .collect();
    out.sort_by(|a, b| a.key.cmp(&b.key));
    out
}

/// The projects a stats request covers (`None`: all), checking the caller may see them.
pub async fn scope(
    store: &Store,
    caller: &Caller,
    project_id: Option<&str>,
) -> AppResult<Option<Vec<String>>> {
    super::visible_projects(store, caller, project_id, None).await
}

/// Computes the numbers of a scope (from [`scope`]).
pub async fn compute(
    store: &Store,
    projects: Option<&[String]>,
    window: TimeWindow,
) -> AppResult<Stats> {
    let today = midnight();
    // Independent reads, side by side: the figure costs the slowest one, not their sum.
    let (integration_counts, health, calls_today, calls_window, webhooks, deliveries, firing) = tokio::try_join!(
        stats_store::integration_counts(store, projects),
        crate::store::health::status_counts(store, projects),
        stats_store::calls(store, projects, today),
        stats_store::calls(store, projects, window.since()),
        stats_store::webhooks_by_status(store, projects),
        stats_store::deliveries_by_status(store, projects, today),
        crate::store::alerts::firing_count(store, projects),
    )?;
    let mut by_category = std::collections::BTreeMap::<String, i64>::new();
    let mut by_status = std::collections::BTreeMap::<String, i64>::new();
    let mut active_integrations = 0;
    for (category, status, enabled, count) in integration_counts {
        *by_category.entry(category).or_default() += count;
        if enabled && status == "ACTIVE" {
            active_integrations += count;
        }
        *by_status.entry(status).or_default() += count;
    }
    let integrations = by_status.values().sum();
    let health_of = |status: &str| {
        health
            .iter()
            .find(|(s, _)| s == status)
            .map_or(0, |(_, n)| *n)
    };
    let (healthy, degraded, unhealthy) = (
        health_of("HEALTHY"),
        health_of("DEGRADED"),
        health_of("UNHEALTHY"),
    );
    let (calls_today, _, _) = calls_today;
    let (calls, successes, latency_sum) = calls_window;
    let delivered = deliveries
        .iter()
        .find(|(s, _)| s == "SUCCEEDED")
        .map_or(0, |(_, n)| *n);
    let failed = deliveries
        .iter()
        .find(|(s, _)| s == "FAILED")
        .map_or(0, |(_, n)| *n);
    let ratio = |part: i64, whole: i64| (whole > 0).then(|| part as f64 / whole as f64);
    Ok(Stats {
        project_id: match projects {
            Some([only]) => Some(async_graphql::ID(only.clone())),
            _ => None,
        },
        window,
        integrations,
        active_integrations,
        healthy_integrations: healthy,
        degraded_integrations: degraded,
        unhealthy_integrations: unhealthy,
        unknown_integrations: (integrations - healthy - degraded - unhealthy).max(0),
        api_calls_today: calls_today,
        api_calls: calls,
        success_rate: ratio(successes, calls),
        average_latency_ms: ratio(latency_sum, calls),
        webhooks_active: webhooks
            .iter()
            .find(|(s, _)| s == "ACTIVE")
            .map_or(0, |(_, n)| *n),
        deliveries_today: deliveries.iter().map(|(_, n)| n).sum(),
        delivery_success_rate: ratio(delivered, delivered + failed),
        alerts_firing: firing,
        by_category: counts(by_category.into_iter().collect()),
        by_status: counts(by_status.into_iter().collect()),
        computed_at: Utc::now(),
    })
}

/// The numbers of a scope for the caller.
pub async fn get(
    store: &Store,
    caller: &Caller,
    project_id: Option<&str>,
    window: TimeWindow,
) -> AppResult<Stats> {
    let projects = scope(store, caller, project_id).await?;
    compute(store, projects.as_deref(), window).await
}

/// Stats computed once per (scope, window, tick) for every subscriber that shares them.
pub struct StatsTicks {
    cache: moka::future::Cache<(String, i64, i64), Arc<Stats>>,
}

impl Default for StatsTicks {
    fn default() -> Self {
        StatsTicks {
            cache: moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(120))
                .build(),
        }
    }
}

impl StatsTicks {
    /// The stats of a scope for the tick `tick` of `every_seconds`; computed by the first
    /// subscriber to ask, shared by the others.
    pub async fn get(
        &self,
        store: &Store,
        projects: Option<&[String]>,
        every_seconds: i64,
        tick: i64,
    ) -> AppResult<Arc<Stats>> {
        let scope = projects.map_or_else(|| "*".to_owned(), |ids| ids.join(","));
        let key = (scope, every_seconds, tick);
        self.cache
            .try_get_with(key, async {
                compute(store, projects, TimeWindow::LastDay)
                    .await
                    .map(Arc::new)
            })
            .await
            .map_err(|err| crate::error::AppError::internal(anyhow::anyhow!("{err}")))
    }
}
