//! Alerts: rules that watch integrations and webhook endpoints, and the alerts they fire.
//! One alert per (rule, subject) while it is open (deduplicated by a unique key, across
//! replicas too); FIRING → ACKNOWLEDGED → RESOLVED by hand, or RESOLVED when the
//! condition clears; reminders at a rule's interval while nobody acknowledged; nothing
//! fires for an integration in MAINTENANCE. Metric rules (latency p95, error rate,
//! success rate) are evaluated m-of-n over a window by a worker; health transitions, an
//! opened circuit and a disabled webhook endpoint fire at once.

use async_graphql::{InputObject, MaybeUndefined};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::{Caller, Role};
use super::integrations::Integration;
use super::logs::{LogEntry, LogLevel};
use super::{IntegrationStatus, Page, PageRequest, stored_enum, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::{AlertEvent, BusEvent, outbox};
use crate::ids::{IdKind, new_id};
use crate::store::alerts::{self as alert_store, AlertQuery, AlertRow, AlertRuleRow};
use crate::store::health::TransitionRow;
use crate::store::{Journal, Store, now};

stored_enum! {
    /// What an alert rule watches.
    AlertRuleKind {
        /// The integration became UNHEALTHY (resolves when it is HEALTHY again).
        HealthTransition,
        /// Latency p95 over `threshold` ms in the window.
        LatencyP95,
        /// Failed checks and calls over `threshold` % in the window.
        ErrorRate,
        /// Successful checks and calls under `threshold` % in the window.
        SuccessRate,
        /// The circuit breaker opened (resolves when it closes).
        CircuitOpen,
        /// A webhook endpoint was disabled after sustained failure.
        WebhookDisabled,
    }
}

stored_enum! {
    /// How urgent an alert is.
    Severity { Info, Warning, Critical }
}

stored_enum! {
    /// Where an alert is in its life.
    AlertState { Firing, Acknowledged, Resolved }
}

stored_enum! {
    /// What just happened to an alert (the `alerts` subscription).
    AlertTransition { Fired, Acknowledged, Resolved, Reminded }
}

impl AlertRuleKind {
    /// Evaluated periodically over a window (the others fire on an event).
    pub fn is_metric(self) -> bool {
        matches!(
            self,
            AlertRuleKind::LatencyP95 | AlertRuleKind::ErrorRate | AlertRuleKind::SuccessRate
        )
    }

    /// The threshold when a rule sets none (the seeds' defaults: 5000 ms, 5 %, 95 %).
    fn default_threshold(self) -> Option<f64> {
        match self {
            AlertRuleKind::LatencyP95 => Some(5000.0),
            AlertRuleKind::ErrorRate => Some(5.0),
            AlertRuleKind::SuccessRate => Some(95.0),
            _ => None,
        }
    }
}

/// An alert rule.
#[derive(Debug, Clone)]
pub struct AlertRule {
    pub id: String,
    pub project_id: String,
    pub integration_id: Option<String>,
    pub name: String,
    pub kind: AlertRuleKind,
    pub threshold: Option<f64>,
    pub window_seconds: i32,
    pub breaches: i32,
    pub evaluations: i32,
    pub severity: Severity,
    pub reminder_seconds: Option<i32>,
    pub enabled: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl AlertRule {
    fn from_row(row: &AlertRuleRow) -> AppResult<Self> {
        Ok(AlertRule {
            id: row.id.clone(),
            project_id: row.project_id.clone(),
            integration_id: row.integration_id.clone(),
            name: row.name.clone(),
            kind: AlertRuleKind::from_stored("alert_rules.kind", &row.kind)?,
            threshold: row.threshold,
            window_seconds: row.window_seconds,
            breaches: row.breaches,
            evaluations: row.evaluations,
            severity: Severity::from_stored("alert_rules.severity", &row.severity)?,
            reminder_seconds: row.reminder_seconds,
            enabled: row.enabled,
            created_by: row.created_by.clone(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// An alert.
#[derive(Debug, Clone)]
pub struct Alert {
    pub id: String,
    pub project_id: String,
    pub integration_id: Option<String>,
    pub rule_id: Option<String>,
    pub subject: String,
    pub kind: AlertRuleKind,
    pub severity: Severity,
    pub state: AlertState,
    pub summary: String,
    pub details: serde_json::Value,
    pub fired_at: DateTime<Utc>,
    pub acknowledged_at: Option<DateTime<Utc>>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub last_notified_at: DateTime<Utc>,
}

impl Alert {
    pub fn from_row(row: &AlertRow) -> AppResult<Self> {
        Ok(Alert {
            id: row.id.clone(),
            project_id: row.project_id.clone(),
            integration_id: row.integration_id.clone(),
            rule_id: row.rule_id.clone(),
            subject: row.subject.clone(),
            kind: AlertRuleKind::from_stored("alerts.kind", &row.kind)?,
            severity: Severity::from_stored("alerts.severity", &row.severity)?,
            state: AlertState::from_stored("alerts.state", &row.state)?,
            summary: row.summary.clone(),
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
            fired_at: utc(row.fired_at),
            acknowledged_at: row.acknowledged_at.map(utc),
            acknowledged_by: row.acknowledged_by.clone(),
            resolved_at: row.resolved_at.map(utc),
            resolved_by: row.resolved_by.clone(),
            last_notified_at: utc(row.last_notified_at),
        })
    }
}

/// An alert event as the subscription shows it.
#[derive(Debug, Clone)]
pub struct AlertChange {
    pub alert: Alert,
    pub transition: AlertTransition,
    pub at: DateTime<Utc>,
}

/// Input of `createAlertRule`.
#[derive(Debug, InputObject)]
pub struct CreateAlertRuleInput {
    pub project_id: async_graphql::ID,
    /// Only this integration (default: every integration of the project).
    pub integration_id: Option<async_graphql::ID>,
    pub name: String,
    pub kind: AlertRuleKind,
    /// ms for LATENCY_P95 (default 5000), % for ERROR_RATE (default 5) and SUCCESS_RATE
    /// (default 95); unused by the other kinds.
    pub threshold: Option<f64>,
    /// The window metric rules are computed over, 60-86400 s (default 300).
    pub window_seconds: Option<i32>,
    /// m of m-of-n: fire when at least this many of the last `evaluations` breach (default 1).
    pub breaches: Option<i32>,
    /// n of m-of-n (default: `breaches`).
    pub evaluations: Option<i32>,
    /// Default WARNING (CRITICAL for HEALTH_TRANSITION and CIRCUIT_OPEN).
    pub severity: Option<Severity>,
    /// Re-notify a FIRING, unacknowledged alert this often, 10-604800 s (default: never).
    pub reminder_seconds: Option<i32>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Input of `updateAlertRule`: omitted fields stay, `null` clears a nullable one.
#[derive(Debug, InputObject)]
pub struct UpdateAlertRuleInput {
    pub id: async_graphql::ID,
    pub name: Option<String>,
    pub threshold: MaybeUndefined<f64>,
    pub window_seconds: Option<i32>,
    pub breaches: Option<i32>,
    pub evaluations: Option<i32>,
    pub severity: Option<Severity>,
    pub reminder_seconds: MaybeUndefined<i32>,
    pub enabled: Option<bool>,
}

/// Filters of the `alerts` listing.
#[derive(Debug, Default, InputObject)]
pub struct AlertFilter {
    pub project_id: Option<async_graphql::ID>,
    pub integration_id: Option<async_graphql::ID>,
    pub state: Option<AlertState>,
}

fn threshold(field: &str, kind: AlertRuleKind, value: Option<f64>) -> AppResult<Option<f64>> {
    let value = value.or(kind.default_threshold());
    if let Some(v) = value {
        let valid = v.is_finite()
            && match kind {
                AlertRuleKind::LatencyP95 => (1.0..=600_000.0).contains(&v),
                AlertRuleKind::ErrorRate | AlertRuleKind::SuccessRate => (0.0..=100.0).contains(&v),
                _ => true,
            };
        if !valid {
            let range = match kind {
                AlertRuleKind::LatencyP95 => "1-600000 ms",
                _ => "0-100 %",
            };
            return Err(AppError::invalid(field, format!("must be {range}")));
        }
    }
    Ok(value)
}

fn m_of_n(breaches: i32, evaluations: i32) -> AppResult<(i32, i32)> {
    let m = validate::within("input.breaches", breaches, 1, 50)?;
    let n = validate::within("input.evaluations", evaluations, 1, 50)?;
    if m > n {
        return Err(AppError::invalid(
            "input.breaches",
            format!("cannot exceed evaluations ({n})"),
        ));
    }
    Ok((m, n))
}

fn reminder(value: Option<i32>) -> AppResult<Option<i32>> {
    value
        .map(|s| validate::within("input.reminderSeconds", s, 10, 604_800))
        .transpose()
}

fn rule_journal(caller: &Caller, action: &str, row: &AlertRuleRow) -> Journal {
    Journal {
        logs: Vec::new(),
        audit: caller.audit(
            action,
            ("alert_rule", Some(&row.id)),
            Some(&row.project_id),
            serde_json::json!({ "name": row.name, "kind": row.kind }),
        ),
        events: Vec::new(),
    }
}

/// Creates a rule (EDITOR).
pub async fn create_rule(
    app: &App,
    caller: &Caller,
    input: CreateAlertRuleInput,
) -> AppResult<AlertRule> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("input.projectId", &input.project_id, IdKind::Project)?;
    super::projects::get(&app.store, caller, &project_id).await?;
    let integration_id = match &input.integration_id {
        Some(id) => {
            let integration = super::integrations::get(&app.store, caller, id).await?;
            if integration.project_id != project_id {
                return Err(AppError::invalid(
                    "input.integrationId",
                    "the integration belongs to another project",
                ));
            }
            Some(integration.id)
        }
        None => None,
    };
    let breaches = input.breaches.unwrap_or(1);
    let (breaches, evaluations) = m_of_n(breaches, input.evaluations.unwrap_or(breaches))?;
    let at = now();
    let row = AlertRuleRow {
        id: new_id(IdKind::AlertRule),
        project_id,
        integration_id,
        name: validate::name("input.name", &input.name, 100)?,
        kind: input.kind.as_str().to_owned(),
        threshold: threshold("input.threshold", input.kind, input.threshold)?,
        window_seconds: validate::within(
            "input.windowSeconds",
            input.window_seconds.unwrap_or(300),
            60,
            86_400,
        )?,
        breaches,
        evaluations,
        severity: input
            .severity
            .unwrap_or(match input.kind {
                AlertRuleKind::HealthTransition | AlertRuleKind::CircuitOpen => Severity::Critical,
                _ => Severity::Warning,
            })
            .as_str()
            .to_owned(),
        reminder_seconds: reminder(input.reminder_seconds)?,
        enabled: input.enabled.unwrap_or(true),
        recent: "{}".to_owned(),
        created_by: caller.principal.name.clone(),
        created_at: at,
        updated_at: at,
    };
    alert_store::insert_rule(
        &app.store,
        &row,
        &rule_journal(caller, "alert_rule.create", &row),
    )
    .await?;
    AlertRule::from_row(&row)
}

async fn get_rule_row(store: &Store, caller: &Caller, id: &str) -> AppResult<AlertRuleRow> {
    if IdKind::of(id) == Some(IdKind::AlertRule)
        && let Some(row) = alert_store::get_rule(store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Ok(row);
    }
    Err(AppError::not_found("alert rule", id))
}

/// A rule the caller may see.
pub async fn get_rule(store: &Store, caller: &Caller, id: &str) -> AppResult<AlertRule> {
    AlertRule::from_row(&get_rule_row(store, caller, id).await?)
}

/// Rules by ID for a data loader (the alerts pointing at them were scope-checked).
pub async fn rules_unchecked(store: &Store, ids: &[String]) -> AppResult<Vec<AlertRule>> {
    alert_store::get_rules(store, ids)
        .await?
        .iter()
        .map(AlertRule::from_row)
        .collect()
}

/// Changes a rule (EDITOR).
pub async fn update_rule(
    app: &App,
    caller: &Caller,
    input: UpdateAlertRuleInput,
) -> AppResult<AlertRule> {
    caller.principal.require(Role::Editor)?;
    let current = get_rule_row(&app.store, caller, &input.id).await?;
    let kind = AlertRuleKind::from_stored("alert_rules.kind", &current.kind)?;
    let mut next = current.clone();
    if let Some(name) = &input.name {
        next.name = validate::name("input.name", name, 100)?;
    }
    match input.threshold {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => next.threshold = kind.default_threshold(),
        MaybeUndefined::Value(v) => next.threshold = threshold("input.threshold", kind, Some(v))?,
    }
    if let Some(window) = input.window_seconds {
        next.window_seconds = validate::within("input.windowSeconds", window, 60, 86_400)?;
    }
    if input.breaches.is_some() || input.evaluations.is_some() {
        (next.breaches, next.evaluations) = m_of_n(
            input.breaches.unwrap_or(current.breaches),
            input.evaluations.unwrap_or(current.evaluations),
        )?;
        next.recent = "{}".to_owned();
    }
    if let Some(severity) = input.severity {
        next.severity = severity.as_str().to_owned();
    }
    match input.reminder_seconds {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => next.reminder_seconds = None,
        MaybeUndefined::Value(v) => next.reminder_seconds = reminder(Some(v))?,
    }
    if let Some(enabled) = input.enabled {
        next.enabled = enabled;
    }
    next.updated_at = now();
    if !alert_store::update_rule(
        &app.store,
        &next,
        &rule_journal(caller, "alert_rule.update", &next),
    )
    .await?
    {
        return Err(AppError::not_found("alert rule", input.id.to_string()));
    }
    AlertRule::from_row(&next)
}

/// Deletes a rule (EDITOR); its alerts stay, without their rule.
pub async fn delete_rule(app: &App, caller: &Caller, id: &str) -> AppResult<AlertRule> {
    caller.principal.require(Role::Editor)?;
    let current = get_rule_row(&app.store, caller, id).await?;
    if !alert_store::delete_rule(
        &app.store,
        id,
        &rule_journal(caller, "alert_rule.delete", &current),
    )
    .await?
    {
        return Err(AppError::not_found("alert rule", id));
    }
    AlertRule::from_row(&current)
}

/// The rules the caller may see, of a project or integration.
pub async fn list_rules(
    store: &Store,
    caller: &Caller,
    project_id: Option<&str>,
    integration_id: Option<&str>,
    request: &PageRequest,
) -> AppResult<Page<AlertRule>> {
    let projects = super::visible_projects(store, caller, project_id, integration_id).await?;
    alert_store::rules_page(store, projects.as_deref(), integration_id, request)
        .await?
        .try_map(|row| AlertRule::from_row(&row))
}

/// An alert the caller may see.
pub async fn get(store: &Store, caller: &Caller, id: &str) -> AppResult<Alert> {
    if IdKind::of(id) == Some(IdKind::Alert)
        && let Some(row) = alert_store::get(store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Alert::from_row(&row);
    }
    Err(AppError::not_found("alert", id))
}

/// Alerts the caller may see, oldest first.
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: AlertFilter,
    request: &PageRequest,
) -> AppResult<Page<Alert>> {
    let query = AlertQuery {
        project_ids: super::visible_projects(
            store,
            caller,
            filter.project_id.as_ref().map(|id| id.as_str()),
            filter.integration_id.as_ref().map(|id| id.as_str()),
        )
        .await?,
        integration_id: filter.integration_id.map(|id| id.to_string()),
        states: filter.state.map(|s| vec![s.as_str().to_owned()]),
    };
    alert_store::page(store, &query, request)
        .await?
        .try_map(|row| Alert::from_row(&row))
}

/// The alerts of an integration the caller holds.
pub async fn of_integration(
    store: &Store,
    caller: &Caller,
    integration: &Integration,
    state: Option<AlertState>,
    request: &PageRequest,
) -> AppResult<Page<Alert>> {
    if !caller.principal.sees_project(&integration.project_id) {
        return Err(AppError::not_found("integration", &integration.id));
    }
    let query = AlertQuery {
        project_ids: None,
        integration_id: Some(integration.id.clone()),
        states: state.map(|s| vec![s.as_str().to_owned()]),
    };
    alert_store::page(store, &query, request)
        .await?
        .try_map(|row| Alert::from_row(&row))
}

fn alert_document(row: &AlertRow) -> serde_json::Value {
    serde_json::json!({
        "id": row.id, "kind": row.kind, "severity": row.severity, "state": row.state,
        "summary": row.summary, "integrationId": row.integration_id, "ruleId": row.rule_id,
        "subject": row.subject, "firedAt": utc(row.fired_at).to_rfc3339(),
    })
}

fn publish(
    app: &App,
    row: &AlertRow,
    transition: AlertTransition,
    logs: Vec<crate::store::logs::LogRow>,
) {
    app.workers.wake.dispatcher.notify_one();
    for log in logs {
        app.events.publish(BusEvent::Log(Box::new(log)));
    }
    app.events.publish(BusEvent::Alert(Box::new(AlertEvent {
        alert: row.clone(),
        transition: transition.as_str().to_owned(),
        at: now(),
    })));
}

/// What a new alert says.
pub struct Firing<'a> {
    pub project_id: &'a str,
    pub integration_id: Option<&'a str>,
    pub rule: Option<&'a AlertRuleRow>,
    pub kind: AlertRuleKind,
    pub subject: &'a str,
    pub severity: Severity,
    pub summary: String,
    pub details: serde_json::Value,
}

/// Fires an alert unless one is already open for its rule and subject.
pub async fn fire(app: &App, firing: Firing<'_>) -> AppResult<Option<AlertRow>> {
    let key = match firing.rule {
        Some(rule) => format!("{}:{}", rule.id, firing.subject),
        None => format!("{}:{}", firing.kind.as_str(), firing.subject),
    };
    if alert_store::open_by_key(&app.store, &key).await?.is_some() {
        return Ok(None);
    }
    let at = now();
    let row = AlertRow {
        id: new_id(IdKind::Alert),
        project_id: firing.project_id.to_owned(),
        integration_id: firing.integration_id.map(str::to_owned),
        rule_id: firing.rule.map(|r| r.id.clone()),
        subject: firing.subject.to_owned(),
        dedupe_key: Some(key),
        kind: firing.kind.as_str().to_owned(),
        severity: firing.severity.as_str().to_owned(),
        state: AlertState::Firing.as_str().to_owned(),
        summary: firing.summary.chars().take(500).collect(),
        details: firing.details.to_string(),
        fired_at: at,
        acknowledged_at: None,
        acknowledged_by: None,
        resolved_at: None,
        resolved_by: None,
        last_notified_at: at,
    };
    let level = match firing.severity {
        Severity::Critical => LogLevel::Critical,
        Severity::Warning => LogLevel::Warn,
        Severity::Info => LogLevel::Info,
    };
    let log = LogEntry::new(
        &row.project_id,
        row.integration_id.as_deref(),
        level,
        format!("alert fired: {}", row.summary),
        serde_json::json!({ "alertId": row.id, "kind": row.kind, "severity": row.severity, "ruleId": row.rule_id }),
    )
    .to_row();
    let event = outbox::event(
        &row.project_id,
        "alert.fired",
        serde_json::json!({ "alert": alert_document(&row) }),
    );
    if !alert_store::insert(&app.store, &row, std::slice::from_ref(&log), &[event]).await? {
        return Ok(None);
    }
    publish(app, &row, AlertTransition::Fired, vec![log]);
    Ok(Some(row))
}

/// Moves an open alert to ACKNOWLEDGED or RESOLVED (by a person, or the system).
async fn change(
    app: &App,
    mut row: AlertRow,
    to: AlertState,
    by: &str,
    audit: Option<&Caller>,
    why: &str,
) -> AppResult<Option<AlertRow>> {
    let from: &[&str] = match to {
        AlertState::Acknowledged => &["FIRING"],
        _ => &["FIRING", "ACKNOWLEDGED"],
    };
    let at = now();
    let (event_type, transition) = match to {
        AlertState::Acknowledged => {
            row.acknowledged_at = Some(at);
            row.acknowledged_by = Some(by.to_owned());
            ("alert.acknowledged", AlertTransition::Acknowledged)
        }
        _ => {
            row.resolved_at = Some(at);
            row.resolved_by = Some(by.to_owned());
            row.dedupe_key = None;
            ("alert.resolved", AlertTransition::Resolved)
        }
    };
    row.state = to.as_str().to_owned();
    let log = LogEntry::new(
        &row.project_id,
        row.integration_id.as_deref(),
        LogLevel::Info,
        format!(
            "alert {}: {} ({why})",
            to.as_str().to_lowercase(),
            row.summary
        ),
        serde_json::json!({ "alertId": row.id, "by": by }),
    )
    .to_row();
    let event = outbox::event(
        &row.project_id,
        event_type,
        serde_json::json!({ "alert": alert_document(&row), "by": by, "reason": why }),
    );
    let audit_row = audit.map(|caller| {
        caller.audit(
            match to {
                AlertState::Acknowledged => "alert.acknowledge",
                _ => "alert.resolve",
            },
            ("alert", Some(&row.id)),
            Some(&row.project_id),
            serde_json::json!({ "summary": row.summary }),
        )
    });
    if !alert_store::transition(
        &app.store,
        &row,
        from,
        std::slice::from_ref(&log),
        &[event],
        audit_row.as_ref(),
    )
    .await?
    {
        return Ok(None);
    }
    publish(app, &row, transition, vec![log]);
    Ok(Some(row))
}

/// Acknowledges a FIRING alert (EDITOR): reminders stop; it resolves as before.
pub async fn acknowledge(app: &App, caller: &Caller, id: &str) -> AppResult<Alert> {
    by_hand(app, caller, id, AlertState::Acknowledged).await
}

/// Resolves an open alert by hand (EDITOR).
pub async fn resolve(app: &App, caller: &Caller, id: &str) -> AppResult<Alert> {
    by_hand(app, caller, id, AlertState::Resolved).await
}

async fn by_hand(app: &App, caller: &Caller, id: &str, to: AlertState) -> AppResult<Alert> {
    caller.principal.require(Role::Editor)?;
    let row = match alert_store::get(&app.store, id).await? {
        Some(row)
            if IdKind::of(id) == Some(IdKind::Alert)
                && caller.principal.sees_project(&row.project_id) =>
        {
            row
        }
        _ => return Err(AppError::not_found("alert", id)),
    };
    let state = row.state.clone();
    let why = match to {
        AlertState::Acknowledged => "acknowledged",
        _ => "resolved by hand",
    };
    match change(app, row, to, &caller.principal.name, Some(caller), why).await? {
        Some(row) => Alert::from_row(&row),
        None => Err(AppError::Conflict(match to {
            AlertState::Acknowledged => {
                format!("the alert is {state}; only FIRING alerts can be acknowledged")
            }
            _ => "the alert is already RESOLVED".to_owned(),
        })),
    }
}

/// Resolves the open alerts of some kinds about a subject: their condition cleared.
async fn clear(app: &App, subject: &str, kinds: &[AlertRuleKind], why: &str) {
    let kinds: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    match alert_store::open_for_subject(&app.store, subject, &kinds).await {
        Ok(open) => {
            for row in open {
                if let Err(err) =
                    change(app, row, AlertState::Resolved, "patchbay", None, why).await
                {
                    tracing::warn!(error = %err, "auto-resolving an alert failed");
                }
            }
        }
        Err(err) => tracing::warn!(error = %err, "reading open alerts failed"),
    }
}

async fn rules_for(app: &App, integration: &Integration, kind: AlertRuleKind) -> Vec<AlertRuleRow> {
    match alert_store::applicable_rules(
        &app.store,
        &integration.project_id,
        Some(&integration.id),
        &[kind.as_str()],
    )
    .await
    {
        Ok(rules) => rules,
        Err(err) => {
            tracing::warn!(error = %err, "reading alert rules failed");
            Vec::new()
        }
    }
}

/// Health transition: UNHEALTHY fires HEALTH_TRANSITION rules (CIRCUIT_OPEN ones too when
/// the circuit opened); HEALTHY resolves them. Nothing fires during MAINTENANCE.
pub async fn on_health_transition(
    app: &App,
    integration: &Integration,
    transition: &TransitionRow,
) {
    match transition.current.as_str() {
        "UNHEALTHY" if integration.status != IntegrationStatus::Maintenance => {
            for rule in rules_for(app, integration, AlertRuleKind::HealthTransition).await {
                let result = fire(app, Firing {
                    project_id: &integration.project_id,
                    integration_id: Some(&integration.id),
                    rule: Some(&rule),
                    kind: AlertRuleKind::HealthTransition,
                    subject: &integration.id,
                    severity: Severity::from_stored("alert_rules.severity", &rule.severity).unwrap_or(Severity::Critical),
                    summary: format!("{} is UNHEALTHY: {}", integration.name, transition.reason),
                    details: serde_json::json!({ "previous": transition.previous, "current": transition.current, "reason": transition.reason, "rule": rule.name }),
                })
                .await;
                if let Err(err) = result {
                    tracing::warn!(error = %err, "firing an alert failed");
                }
            }
        }
        "HEALTHY" => {
            clear(
                app,
                &integration.id,
                &[AlertRuleKind::HealthTransition],
                "the integration is HEALTHY again",
            )
            .await;
        }
        _ => {}
    }
}

/// The circuit breaker opened or closed.
pub async fn on_circuit(app: &App, integration: &Integration, opened: Option<&str>) {
    let Some(reason) = opened else {
        clear(
            app,
            &integration.id,
            &[AlertRuleKind::CircuitOpen],
            "the circuit closed",
        )
        .await;
        return;
    };
    if integration.status == IntegrationStatus::Maintenance {
        return;
    }
    for rule in rules_for(app, integration, AlertRuleKind::CircuitOpen).await {
        let result = fire(
            app,
            Firing {
                project_id: &integration.project_id,
                integration_id: Some(&integration.id),
                rule: Some(&rule),
                kind: AlertRuleKind::CircuitOpen,
                subject: &integration.id,
                severity: Severity::from_stored("alert_rules.severity", &rule.severity)
                    .unwrap_or(Severity::Critical),
                summary: format!("{}: circuit opened ({reason})", integration.name),
                details: serde_json::json!({ "reason": reason, "rule": rule.name }),
            },
        )
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "firing an alert failed");
        }
    }
}

/// A webhook endpoint was disabled: a WEBHOOK_DISABLED alert, from each such rule of the
/// project, or one without a rule (WARNING) when the project has none.
pub async fn on_webhook_disabled(
    app: &App,
    project_id: &str,
    webhook_id: &str,
    url: &str,
    reason: &str,
) {
    let rules = alert_store::applicable_rules(
        &app.store,
        project_id,
        None,
        &[AlertRuleKind::WebhookDisabled.as_str()],
    )
    .await
    .unwrap_or_default();
    let summary = format!("Webhook endpoint {url} disabled: {reason}");
    let details = serde_json::json!({ "webhookId": webhook_id, "url": url, "reason": reason });
    let firings: Vec<Option<&AlertRuleRow>> = if rules.is_empty() {
        vec![None]
    } else {
        rules.iter().map(Some).collect()
    };
    for rule in firings {
        let severity = rule
            .and_then(|r| Severity::from_stored("alert_rules.severity", &r.severity).ok())
            .unwrap_or(Severity::Warning);
        let result = fire(
            app,
            Firing {
                project_id,
                integration_id: None,
                rule,
                kind: AlertRuleKind::WebhookDisabled,
                subject: webhook_id,
                severity,
                summary: summary.clone(),
                details: details.clone(),
            },
        )
        .await;
        if let Err(err) = result {
            tracing::warn!(error = %err, "firing an alert failed");
        }
    }
}

/// A webhook endpoint works again (re-enabled): its WEBHOOK_DISABLED alerts resolve.
pub async fn on_webhook_enabled(app: &App, webhook_id: &str) {
    clear(
        app,
        webhook_id,
        &[AlertRuleKind::WebhookDisabled],
        "the endpoint was enabled again",
    )
    .await;
}

/// A rule's evaluation memory: when it last ran and the outcomes per subject.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Recent {
    #[serde(default)]
    at: Option<i64>,
    #[serde(default)]
    subjects: std::collections::BTreeMap<String, Vec<bool>>,
}

/// Whether a window's figures breach a metric rule (no data: no breach), with the value.
pub fn breaches(
    kind: AlertRuleKind,
    threshold: f64,
    figures: &super::health::Figures,
) -> (bool, Option<f64>) {
    match kind {
        AlertRuleKind::LatencyP95 => {
            let value = figures.latency_p95_ms;
            (value.is_some_and(|v| v > threshold), value)
        }
        AlertRuleKind::ErrorRate => {
            let value = figures.error_rate.map(|r| r * 100.0);
            (value.is_some_and(|v| v > threshold), value)
        }
        AlertRuleKind::SuccessRate => {
            let value = figures.error_rate.map(|r| 100.0 - r * 100.0);
            (value.is_some_and(|v| v < threshold), value)
        }
        _ => (false, None),
    }
}

/// Evaluates every metric rule whose turn it is (one pass of the worker). Replicas share
/// the work: a rule's memory is written only if unchanged since it was read.
pub async fn evaluate_metric_rules(app: &App) -> anyhow::Result<()> {
    let kinds = [
        AlertRuleKind::LatencyP95.as_str(),
        AlertRuleKind::ErrorRate.as_str(),
        AlertRuleKind::SuccessRate.as_str(),
    ];
    let now_ms = now().and_utc().timestamp_millis();
    // A little slack, so the worker's tick and the interval never alias into skips.
    let interval_ms = app.config.alert_evaluation.as_millis() as i64 - 250;
    for rule in alert_store::enabled_rules(&app.store, &kinds).await? {
        let mut recent: Recent = serde_json::from_str(&rule.recent).unwrap_or_default();
        if recent.at.is_some_and(|at| now_ms - at < interval_ms) {
            continue;
        }
        let kind = AlertRuleKind::from_stored("alert_rules.kind", &rule.kind)?;
        let Some(threshold) = rule.threshold.or(kind.default_threshold()) else {
            continue;
        };
        let subjects = match &rule.integration_id {
            Some(id) => vec![id.clone()],
            None => {
                crate::store::integrations::ids_of_project(&app.store, &rule.project_id).await?
            }
        };
        let integrations = super::integrations::get_many_unchecked(&app.store, &subjects).await?;
        // Minute buckets: the one the window starts in counts whole.
        let start = (now() - chrono::Duration::seconds(i64::from(rule.window_seconds)))
            .and_utc()
            .timestamp();
        let since = chrono::DateTime::from_timestamp(start - start.rem_euclid(60), 0)
            .map_or_else(now, |t| t.naive_utc());
        let totals = crate::store::health::totals(&app.store, &subjects, 60, since).await?;
        let mut outcomes = Vec::new();
        for integration in &integrations {
            // Suppressed during maintenance: no evaluation, no alert.
            if integration.status == IntegrationStatus::Maintenance {
                continue;
            }
            let figures = totals
                .get(&integration.id)
                .map(super::health::Figures::from_totals)
                .unwrap_or_default();
            let (breach, value) = breaches(kind, threshold, &figures);
            let history = recent.subjects.entry(integration.id.clone()).or_default();
            history.push(breach);
            let keep = rule.evaluations.max(1) as usize;
            if history.len() > keep {
                history.drain(..history.len() - keep);
            }
            let count = history.iter().filter(|b| **b).count() as i32;
            outcomes.push((integration, count >= rule.breaches, value));
        }
        recent.subjects.retain(|id, _| subjects.contains(id));
        recent.at = Some(now_ms);
        let written = crate::store::alerts::set_recent_if(
            &app.store,
            &rule.id,
            &rule.recent,
            &serde_json::to_string(&recent)?,
        )
        .await?;
        if !written {
            continue;
        }
        for (integration, firing, value) in outcomes {
            if firing {
                let what = match kind {
                    AlertRuleKind::LatencyP95 => format!(
                        "latency p95 {:.0} ms > {threshold} ms",
                        value.unwrap_or_default()
                    ),
                    AlertRuleKind::ErrorRate => format!(
                        "error rate {:.1} % > {threshold} %",
                        value.unwrap_or_default()
                    ),
                    _ => format!(
                        "success rate {:.1} % < {threshold} %",
                        value.unwrap_or_default()
                    ),
                };
                fire(app, Firing {
                    project_id: &integration.project_id,
                    integration_id: Some(&integration.id),
                    rule: Some(&rule),
                    kind,
                    subject: &integration.id,
                    severity: Severity::from_stored("alert_rules.severity", &rule.severity)?,
                    summary: format!("{}: {what} over {} s", integration.name, rule.window_seconds),
                    details: serde_json::json!({ "value": value, "threshold": threshold, "windowSeconds": rule.window_seconds, "breaches": rule.breaches, "evaluations": rule.evaluations, "rule": rule.name }),
                })
                .await?;
            } else {
                let key = format!("{}:{}", rule.id, integration.id);
                if let Some(open) = alert_store::open_by_key(&app.store, &key).await? {
                    change(
                        app,
                        open,
                        AlertState::Resolved,
                        "patchbay",
                        None,
                        "the condition cleared",
                    )
                    .await?;
                }
            }
        }
    }
    Ok(())
}

/// Re-notifies FIRING alerts nobody acknowledged, at their rule's reminder interval.
pub async fn send_reminders(app: &App) -> anyhow::Result<()> {
    let candidates =
        alert_store::firing_notified_before(&app.store, now() - chrono::Duration::seconds(10))
            .await?;
    let mut rules = std::collections::HashMap::new();
    for mut row in candidates {
        let Some(rule_id) = row.rule_id.clone() else {
            continue;
        };
        if !rules.contains_key(&rule_id) {
            rules.insert(
                rule_id.clone(),
                alert_store::get_rule(&app.store, &rule_id).await?,
            );
        }
        let Some(Some(rule)) = rules.get(&rule_id) else {
            continue;
        };
        let Some(every) = rule.reminder_seconds else {
            continue;
        };
        if row.last_notified_at + chrono::Duration::seconds(i64::from(every)) > now() {
            continue;
        }
        let previous = row.last_notified_at;
        row.last_notified_at = now();
        let event = outbox::event(
            &row.project_id,
            "alert.fired",
            serde_json::json!({ "alert": alert_document(&row), "reminder": true, "firingSince": utc(row.fired_at).to_rfc3339() }),
        );
        if crate::store::alerts::remind(&app.store, &row, previous, &event).await? {
            publish(app, &row, AlertTransition::Reminded, Vec::new());
        }
    }
    Ok(())
}

/// Which alert events a live subscriber wants, within what it may see.
#[derive(Debug, Clone)]
pub struct AlertSelection {
    project_ids: Option<Vec<String>>,
}

impl AlertSelection {
    pub async fn visible(
        store: &Store,
        caller: &Caller,
        project_id: Option<&str>,
    ) -> AppResult<Self> {
        Ok(AlertSelection {
            project_ids: super::visible_projects(store, caller, project_id, None).await?,
        })
    }

    pub fn live(&self, event: &AlertEvent) -> Option<AlertChange> {
        if !self
            .project_ids
            .as_ref()
            .is_none_or(|ids| ids.contains(&event.alert.project_id))
        {
            return None;
        }
        Some(AlertChange {
            alert: Alert::from_row(&event.alert).ok()?,
            transition: AlertTransition::from_stored("alert event", &event.transition).ok()?,
            at: utc(event.at),
        })
    }
}
