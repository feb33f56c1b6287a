//! Health in the API: `Integration.health`, `Integration.healthCheck`,
//! `runHealthCheck`, and the live `healthChanged` subscription.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, Stream};

use super::compiled::JsonOut;
use super::errors::{ApiError, ApiResult};
use super::integrations::Integration;
use super::loaders::{HealthFiguresLoader, HealthStateLoader, IntegrationLoader};
use super::{app, caller};
use crate::domain::health::{
    self as domain, Figures, HealthChangeSelection, HealthPoint, HealthStatus, HealthWindow,
};
use crate::domain::integrations as integration_domain;
use crate::events::BusEvent;

/// How an integration is doing: its status (with the reason for the last change) and its
/// figures over a window (uptime, latency percentiles, error rate) from checks and calls.
/// Borrows the integration it describes: a list page asks for the health of every row.
pub struct Health<'a> {
    pub state: domain::Health,
    pub integration: &'a integration_domain::Integration,
}

impl Health<'_> {
    async fn figures(&self, ctx: &Context<'_>, window: Option<HealthWindow>) -> ApiResult<Figures> {
        let loader = ctx.data_unchecked::<DataLoader<HealthFiguresLoader>>();
        Ok(loader
            .load_one((self.integration.id.clone(), window.unwrap_or_default()))
            .await?
            .unwrap_or_default())
    }
}

/// Writes one of `Health`'s fields from the state and the integration (a compiled page's
/// `health { … }`, `graphql::compiled`), exactly as the resolver below answers it.
pub(super) type HealthField = fn(&domain::Health, &integration_domain::Integration, &mut JsonOut);

/// `Health`'s fields a compiled page writes: those that need no figures.
pub(super) const HEALTH_PLAIN_FIELDS: &[(&str, HealthField)] = &[
    ("status", |state, _, out| out.enum_item(state.status)),
    ("reason", |state, integration, out| {
        out.opt_str(reason(state, integration).as_deref());
    }),
    ("checked", |_, integration, out| {
        out.bool(checked(integration))
    }),
    ("lastCheckedAt", |state, _, out| {
        out.opt_scalar(state.last_checked_at.as_ref());
    }),
    ("lastLatencyMs", |state, _, out| {
        out.opt_int(state.last_latency_ms)
    }),
    ("lastError", |state, _, out| {
        out.opt_str(state.last_error.as_deref())
    }),
    ("consecutiveFailures", |state, _, out| {
        out.int(state.consecutive_failures);
    }),
    ("nextCheckAt", |state, _, out| {
        out.opt_scalar(state.next_check_at.as_ref())
    }),
    ("changedAt", |state, _, out| {
        out.opt_scalar(state.changed_at.as_ref())
    }),
];

/// `Health.reason`: why the integration is not checked, else the last transition's reason.
fn reason(state: &domain::Health, integration: &integration_domain::Integration) -> Option<String> {
    domain::skipped_because(integration).or_else(|| state.reason.clone())
}

/// The window `Health.score` is computed over.
pub(super) const SCORE_WINDOW: HealthWindow = HealthWindow::Day;

/// `Health.score` from the figures over `SCORE_WINDOW`.
pub(super) fn score(
    state: &domain::Health,
    figures: &Figures,
    integration: &integration_domain::Integration,
) -> Option<i32> {
    let max_latency_ms = integration
        .call_options
        .health_check
        .as_ref()
        .and_then(|c| c.max_latency_ms);
    domain::score(state.status, figures, max_latency_ms)
}

/// `Health.checked`: a health check is configured and nothing skips it.
fn checked(integration: &integration_domain::Integration) -> bool {
    integration.call_options.health_check.is_some()
        && domain::skipped_because(integration).is_none()
}

#[Object]
impl Health<'_> {
    async fn status(&self) -> HealthStatus {
        self.state.status
    }
    /// Why the status is what it is (the last transition's reason), or why the
    /// integration is not checked (disabled, MAINTENANCE).
    async fn reason(&self) -> Option<String> {
        reason(&self.state, self.integration)
    }
    /// Whether scheduled checks run (a health check is configured and the integration is
    /// enabled and ACTIVE).
    async fn checked(&self) -> bool {
        checked(self.integration)
    }
    /// 0-100 (README "Health score"): uptime, latency and error rate over the last day,
    /// capped while DEGRADED or UNHEALTHY; null without data.
    async fn score(&self, ctx: &Context<'_>) -> ApiResult<Option<i32>> {
        let figures = self.figures(ctx, Some(SCORE_WINDOW)).await?;
        Ok(score(&self.state, &figures, self.integration))
    }
    /// Passing checks over all checks in the window, 0-1 (default: the last day).
    async fn uptime(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<Option<f64>> {
        Ok(self.figures(ctx, window).await?.uptime)
    }
    /// Latency percentiles of checks and calls in the window, from a histogram.
    async fn latency_p50_ms(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<Option<f64>> {
        Ok(self.figures(ctx, window).await?.latency_p50_ms)
    }
    async fn latency_p95_ms(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<Option<f64>> {
        Ok(self.figures(ctx, window).await?.latency_p95_ms)
    }
    async fn latency_p99_ms(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<Option<f64>> {
        Ok(self.figures(ctx, window).await?.latency_p99_ms)
    }
    /// Failed checks and upstream faults of calls over all of them, 0-1.
    async fn error_rate(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<Option<f64>> {
        Ok(self.figures(ctx, window).await?.error_rate)
    }
    /// Check and call counts in the window.
    async fn counts(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<HealthCounts> {
        let figures = self.figures(ctx, window).await?;
        Ok(HealthCounts {
            checks: figures.checks,
            check_failures: figures.check_failures,
            calls: figures.calls,
            call_failures: figures.call_failures,
        })
    }
    async fn last_checked_at(&self) -> Option<DateTime<Utc>> {
        self.state.last_checked_at
    }
    async fn last_latency_ms(&self) -> Option<i32> {
        self.state.last_latency_ms
    }
    async fn last_error(&self) -> Option<&str> {
        self.state.last_error.as_deref()
    }
    async fn consecutive_failures(&self) -> i32 {
        self.state.consecutive_failures
    }
    async fn next_check_at(&self) -> Option<DateTime<Utc>> {
        self.state.next_check_at
    }
    /// When the status last changed.
    async fn changed_at(&self) -> Option<DateTime<Utc>> {
        self.state.changed_at
    }
    /// Chart points over the window: minutes for HOUR, hours for DAY and WEEK.
    async fn history(
        &self,
        ctx: &Context<'_>,
        window: Option<HealthWindow>,
    ) -> ApiResult<Vec<HealthPoint>> {
        Ok(domain::history(
            &app(ctx).store,
            caller(ctx)?,
            self.integration,
            window.unwrap_or_default(),
        )
        .await?)
    }
    /// The newest status changes, newest first (default 20, at most 500).
    async fn transitions(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
    ) -> ApiResult<Vec<HealthChange>> {
        let changes = domain::transitions(
            &app(ctx).store,
            caller(ctx)?,
            self.integration,
            i64::from(first.unwrap_or(20)),
        )
        .await?;
        Ok(changes.into_iter().map(HealthChange).collect())
    }
}

/// Checks and calls counted in a window.
#[derive(SimpleObject)]
pub struct HealthCounts {
    pub checks: i64,
    pub check_failures: i64,
    pub calls: i64,
    pub call_failures: i64,
}

/// The integration's health, for `Integration.health`.
pub(crate) async fn health_of<'a>(
    ctx: &Context<'_>,
    integration: &'a integration_domain::Integration,
) -> ApiResult<Health<'a>> {
    let loader = ctx.data_unchecked::<DataLoader<HealthStateLoader>>();
    let state = loader
        .load_one(integration.id.clone())
        .await?
        .unwrap_or_else(|| domain::Health::unknown(&integration.id));
    Ok(Health { state, integration })
}

/// A change of an integration's health.
pub struct HealthChange(pub domain::HealthChange);

#[Object]
impl HealthChange {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The integration; null once it is deleted.
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        let loader = ctx.data_unchecked::<DataLoader<IntegrationLoader>>();
        Ok(loader
            .load_one(self.0.integration_id.clone())
            .await?
            .map(Integration))
    }
    async fn integration_id(&self) -> ID {
        ID(self.0.integration_id.clone())
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    async fn previous(&self) -> HealthStatus {
        self.0.previous
    }
    async fn current(&self) -> HealthStatus {
        self.0.current
    }
    async fn reason(&self) -> &str {
        &self.0.reason
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

/// The result of `runHealthCheck`.
#[derive(SimpleObject)]
pub struct HealthCheckResult {
    /// The check passed (expected status, body condition).
    pub ok: bool,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub error: Option<String>,
    /// The integration's status after this check.
    pub health: HealthStatus,
    pub checked_at: DateTime<Utc>,
}

#[derive(Default)]
pub struct HealthMutation;

#[Object]
impl HealthMutation {
    /// Runs the integration's health check now (EDITOR) and applies its result, as a
    /// scheduled check would.
    async fn run_health_check(&self, ctx: &Context<'_>, id: ID) -> ApiResult<HealthCheckResult> {
        let result = domain::run_now(app(ctx), caller(ctx)?, &id).boxed().await?;
        Ok(HealthCheckResult {
            ok: result.ok,
            status_code: result.status_code,
            latency_ms: result.latency_ms,
            error: result.error,
            health: result.health,
            checked_at: result.checked_at,
        })
    }
}

#[derive(Default)]
pub struct HealthSubscription;

#[Subscription]
impl HealthSubscription {
    /// Health changes as they happen, of a project, an integration, or everything the
    /// caller can see. A subscriber that falls behind gets a LAGGED error.
    async fn health_changed(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        integration_id: Option<ID>,
    ) -> Result<impl Stream<Item = async_graphql::Result<HealthChange>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let selection = HealthChangeSelection::visible(
            &app.store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            integration_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        let receiver = app.events.subscribe();
        Ok(super::live(receiver, move |event| match event {
            BusEvent::HealthChanged(row) => selection.live(row).map(HealthChange),
            _ => None,
        }))
    }
}
