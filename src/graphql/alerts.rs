//! Alerts in the API: rules (`createAlertRule`, `updateAlertRule`, `deleteAlertRule`,
//! `alertRules`), alerts (`alerts`, `acknowledgeAlert`, `resolveAlert`) and the live
//! `alerts` subscription.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Json, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::{ApiError, ApiResult};
use super::integrations::{DeletePayload, Integration};
use super::loaders::{AlertRuleLoader, IntegrationLoader, ProjectLoader};
use super::projects::Project;
use super::{app, caller};
use crate::domain::alerts::{
    self as domain, AlertFilter, AlertRuleKind, AlertSelection, AlertState, AlertTransition,
    CreateAlertRuleInput, Severity, UpdateAlertRuleInput,
};
use crate::events::BusEvent;
use crate::ids::IdKind;

/// A rule that fires alerts.
pub struct AlertRule(pub domain::AlertRule);

impl ConnectionNode for AlertRule {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "kind",
        "threshold",
        "windowSeconds",
        "breaches",
        "evaluations",
        "severity",
        "reminderSeconds",
        "enabled",
        "createdBy",
        "createdAt",
        "updatedAt",
    ];
}

#[Object]
impl AlertRule {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.0.project_id.clone())
            .await?
            .map(Project))
    }
    /// The one integration the rule watches; null: every integration of the project.
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        let Some(id) = &self.0.integration_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<IntegrationLoader>>();
        Ok(loader.load_one(id.clone()).await?.map(Integration))
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> AlertRuleKind {
        self.0.kind
    }
    /// ms (LATENCY_P95) or % (ERROR_RATE, SUCCESS_RATE).
    async fn threshold(&self) -> Option<f64> {
        self.0.threshold
    }
    async fn window_seconds(&self) -> i32 {
        self.0.window_seconds
    }
    /// m of m-of-n.
    async fn breaches(&self) -> i32 {
        self.0.breaches
    }
    /// n of m-of-n.
    async fn evaluations(&self) -> i32 {
        self.0.evaluations
    }
    async fn severity(&self) -> Severity {
        self.0.severity
    }
    async fn reminder_seconds(&self) -> Option<i32> {
        self.0.reminder_seconds
    }
    async fn enabled(&self) -> bool {
        self.0.enabled
    }
    async fn created_by(&self) -> &str {
        &self.0.created_by
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// Something that needs attention, fired once per rule and subject while open.
pub struct Alert(pub domain::Alert);

impl ConnectionNode for Alert {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "kind",
        "subject",
        "severity",
        "state",
        "summary",
        "details",
        "firedAt",
        "acknowledgedAt",
        "acknowledgedBy",
        "resolvedAt",
        "resolvedBy",
        "lastNotifiedAt",
    ];
}

#[Object]
impl Alert {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.0.project_id.clone())
            .await?
            .map(Project))
    }
    /// The integration it is about (null for webhook alerts, or once deleted).
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        let Some(id) = &self.0.integration_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<IntegrationLoader>>();
        Ok(loader.load_one(id.clone()).await?.map(Integration))
    }
    /// The rule that fired it (null for a rule-less webhook alert, or once deleted).
    async fn rule(&self, ctx: &Context<'_>) -> ApiResult<Option<AlertRule>> {
        let Some(id) = &self.0.rule_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<AlertRuleLoader>>();
        Ok(loader.load_one(id.clone()).await?.map(AlertRule))
    }
    async fn kind(&self) -> AlertRuleKind {
        self.0.kind
    }
    /// The ID of what it is about (an integration or a webhook endpoint).
    async fn subject(&self) -> ID {
        ID(self.0.subject.clone())
    }
    async fn severity(&self) -> Severity {
        self.0.severity
    }
    async fn state(&self) -> AlertState {
        self.0.state
    }
    async fn summary(&self) -> &str {
        &self.0.summary
    }
    /// What was measured (values, thresholds, reasons).
    async fn details(&self) -> Json<&serde_json::Value> {
        Json(&self.0.details)
    }
    async fn fired_at(&self) -> DateTime<Utc> {
        self.0.fired_at
    }
    async fn acknowledged_at(&self) -> Option<DateTime<Utc>> {
        self.0.acknowledged_at
    }
    async fn acknowledged_by(&self) -> Option<&str> {
        self.0.acknowledged_by.as_deref()
    }
    async fn resolved_at(&self) -> Option<DateTime<Utc>> {
        self.0.resolved_at
    }
    /// Who resolved it (`patchbay` when its condition cleared).
    async fn resolved_by(&self) -> Option<&str> {
        self.0.resolved_by.as_deref()
    }
    /// The last time it was sent (fired or reminded).
    async fn last_notified_at(&self) -> DateTime<Utc> {
        self.0.last_notified_at
    }
}

/// What happened to an alert.
pub struct AlertEvent(pub domain::AlertChange);

#[Object]
impl AlertEvent {
    async fn alert(&self) -> Alert {
        Alert(self.0.alert.clone())
    }
    async fn transition(&self) -> AlertTransition {
        self.0.transition
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

#[derive(SimpleObject)]
pub struct AlertRulePayload {
    pub rule: AlertRule,
}

#[derive(SimpleObject)]
pub struct AlertPayload {
    pub alert: Alert,
}

/// The alerts of an integration the caller holds (`Integration.alerts`).
pub(crate) async fn integration_alerts(
    ctx: &Context<'_>,
    integration: &crate::domain::integrations::Integration,
    state: Option<AlertState>,
    args: PageArgs,
) -> ApiResult<IdConnection<Alert>> {
    let request = args.request(ctx, IdKind::Alert)?;
    let page =
        domain::of_integration(&app(ctx).store, caller(ctx)?, integration, state, &request).await?;
    Ok(connection(page, &request, |a| a.id.clone(), Alert))
}

/// An alert the caller may see (for `node`).
pub(crate) async fn get(ctx: &Context<'_>, id: &str) -> ApiResult<Alert> {
    Ok(Alert(domain::get(&app(ctx).store, caller(ctx)?, id).await?))
}

/// A rule the caller may see (for `node`).
pub(crate) async fn get_rule(ctx: &Context<'_>, id: &str) -> ApiResult<AlertRule> {
    Ok(AlertRule(
        domain::get_rule(&app(ctx).store, caller(ctx)?, id).await?,
    ))
}

#[derive(Default)]
pub struct AlertQuery;

#[Object]
impl AlertQuery {
    /// Alerts the caller can see, oldest first, filtered by project, integration, state.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        filter: Option<AlertFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<Alert>> {
        let request = PageArgs::forward(first, after).request(ctx, IdKind::Alert)?;
        let page = domain::list(
            &app(ctx).store,
            caller(ctx)?,
            filter.unwrap_or_default(),
            &request,
        )
        .await?;
        Ok(connection(page, &request, |a| a.id.clone(), Alert))
    }

    async fn alert(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Alert> {
        get(ctx, &id).await
    }

    /// Alert rules the caller can see, of a project or an integration.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn alert_rules(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        integration_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<AlertRule>> {
        let request = PageArgs::forward(first, after).request(ctx, IdKind::AlertRule)?;
        let page = domain::list_rules(
            &app(ctx).store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            integration_id.as_ref().map(|id| id.as_str()),
            &request,
        )
        .await?;
        Ok(connection(page, &request, |r| r.id.clone(), AlertRule))
    }
}

#[derive(Default)]
pub struct AlertMutation;

#[Object]
impl AlertMutation {
    /// Creates an alert rule (EDITOR).
    async fn create_alert_rule(
        &self,
        ctx: &Context<'_>,
        input: CreateAlertRuleInput,
    ) -> ApiResult<AlertRulePayload> {
        let rule = domain::create_rule(app(ctx), caller(ctx)?, input).await?;
        Ok(AlertRulePayload {
            rule: AlertRule(rule),
        })
    }

    /// Changes an alert rule (EDITOR).
    async fn update_alert_rule(
        &self,
        ctx: &Context<'_>,
        input: UpdateAlertRuleInput,
    ) -> ApiResult<AlertRulePayload> {
        let rule = domain::update_rule(app(ctx), caller(ctx)?, input).await?;
        Ok(AlertRulePayload {
            rule: AlertRule(rule),
        })
    }

    /// Deletes an alert rule (EDITOR); its alerts stay.
    async fn delete_alert_rule(&self, ctx: &Context<'_>, id: ID) -> ApiResult<DeletePayload> {
        let rule = domain::delete_rule(app(ctx), caller(ctx)?, &id).await?;
        Ok(DeletePayload {
            deleted_id: ID(rule.id),
        })
    }

    /// Acknowledges a FIRING alert (EDITOR): someone is on it; reminders stop.
    async fn acknowledge_alert(&self, ctx: &Context<'_>, id: ID) -> ApiResult<AlertPayload> {
        let alert = domain::acknowledge(app(ctx), caller(ctx)?, &id).await?;
        Ok(AlertPayload {
            alert: Alert(alert),
        })
    }

    /// Resolves an open alert by hand (EDITOR).
    async fn resolve_alert(&self, ctx: &Context<'_>, id: ID) -> ApiResult<AlertPayload> {
        let alert = domain::resolve(app(ctx), caller(ctx)?, &id).await?;
        Ok(AlertPayload {
            alert: Alert(alert),
        })
    }
}

#[derive(Default)]
pub struct AlertSubscription;

#[Subscription]
impl AlertSubscription {
    /// Alerts as they fire, are acknowledged, resolve or remind, of a project or of
    /// everything the caller can see. A subscriber that falls behind gets a LAGGED error.
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
    ) -> Result<impl Stream<Item = async_graphql::Result<AlertEvent>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let selection = AlertSelection::visible(
            &app.store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        let receiver = app.events.subscribe();
        Ok(super::live(receiver, move |event| match event {
            BusEvent::Alert(event) => selection.live(event).map(AlertEvent),
            _ => None,
        }))
    }
}
