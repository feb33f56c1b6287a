//! Webhook endpoints: who may change them, what a valid endpoint is, which events reach
//! which endpoint, and the manual controls (test sends, redelivery, replay, custom
//! events). Delivery itself runs in `crate::jobs::delivery`.

use std::collections::BTreeMap;

use async_graphql::{InputObject, MaybeUndefined, SimpleObject};
use base64::Engine;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::access::{Caller, Role};
use super::logs::{LogEntry, LogLevel};
use super::{Category, stored_enum, utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::{catalog, outbox};
use crate::ids::{IdKind, new_id};
use crate::store::events::EventRow;
use crate::store::jobs::JobRow;
use crate::store::webhooks::{self as webhook_store, DeliveryRow, WebhookRow};
use crate::store::{Journal, Page, PageRequest, StoreResult, decode_json, now, projects};

/// The job kind of one delivery attempt (never renamed once shipped).
pub const DELIVER_JOB: &str = "webhook.deliver";

stored_enum! {
    /// Whether an endpoint receives deliveries.
    WebhookStatus {
        /// Receiving.
        Active,
        /// Paused by a person: deliveries wait and go out on resume.
        Paused,
        /// Disabled after sustained failure or a 410 Gone; enable it again with updateWebhook.
        Disabled,
    }
}

stored_enum! {
    /// Where a delivery stands.
    DeliveryStatus { Pending, Succeeded, Failed }
}

/// Restricts an endpoint to events about some integrations or categories (empty: all).
#[derive(
    Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, SimpleObject, InputObject,
)]
#[graphql(input_name = "WebhookFilterInput")]
#[serde(rename_all = "camelCase", default)]
pub struct WebhookFilter {
    #[graphql(default)]
    pub integration_ids: Vec<String>,
    #[graphql(default)]
    pub categories: Vec<Category>,
}

/// A webhook endpoint (its secret is never part of it).
#[derive(Debug, Clone)]
pub struct Webhook {
    pub id: String,
    pub project_id: String,
    pub url: String,
    pub description: Option<String>,
    pub event_types: Vec<String>,
    pub filter: WebhookFilter,
    pub headers: BTreeMap<String, String>,
    pub rate_limit_per_second: Option<i32>,
    pub status: WebhookStatus,
    pub disabled_reason: Option<String>,
    pub consecutive_failures: i32,
    pub failing_since: Option<DateTime<Utc>>,
    pub last_delivery_at: Option<DateTime<Utc>>,
    /// Until when the previous secret still signs (after a rotation).
    pub previous_secret_expires_at: Option<DateTime<Utc>>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Webhook {
    pub fn from_row(row: &WebhookRow) -> StoreResult<Self> {
        Ok(Webhook {
            id: row.id.clone(),
            project_id: row.project_id.clone(),
            url: row.url.clone(),
            description: row.description.clone(),
            event_types: decode_json("webhooks.event_types", &row.event_types)?,
            filter: decode_json("webhooks.filter", &row.filter)?,
            headers: decode_json("webhooks.headers", &row.headers)?,
            rate_limit_per_second: row.rate_limit_per_second,
            status: WebhookStatus::from_stored("webhooks.status", &row.status)?,
            disabled_reason: row.disabled_reason.clone(),
            consecutive_failures: row.consecutive_failures,
            failing_since: row.failing_since.map(utc),
            last_delivery_at: row.last_delivery_at.map(utc),
            previous_secret_expires_at: row.previous_expires_at.map(utc),
            created_by: row.created_by.clone(),
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        })
    }
}

/// Input of `createWebhook`.
#[derive(Debug, InputObject)]
pub struct CreateWebhookInput {
    pub project_id: async_graphql::ID,
    /// http(s) URL; must pass the SSRF guard.
    pub url: String,
    pub description: Option<String>,
    /// Event types or patterns: `integration.created`, `integration.*`, `custom.*`, `*`.
    pub event_types: Vec<String>,
    pub filter: Option<WebhookFilter>,
    /// Extra headers sent with every delivery: an object of strings.
    pub headers: Option<async_graphql::Json<serde_json::Value>>,
    /// Deliveries per second to this endpoint at most (default: unlimited).
    pub rate_limit_per_second: Option<i32>,
    /// Defaults to true; false creates it paused.
    pub enabled: Option<bool>,
}

/// Input of `updateWebhook`: omitted fields stay; `enabled` pauses or resumes (and
/// re-enables a disabled endpoint).
#[derive(Debug, InputObject)]
pub struct UpdateWebhookInput {
    pub id: async_graphql::ID,
    pub url: Option<String>,
    pub description: MaybeUndefined<String>,
    pub event_types: Option<Vec<String>>,
    pub filter: Option<WebhookFilter>,
    pub headers: Option<async_graphql::Json<serde_json::Value>>,
    pub rate_limit_per_second: MaybeUndefined<i32>,
    pub enabled: Option<bool>,
}

/// Input of `replayWebhook`.
#[derive(Debug, InputObject)]
pub struct ReplayWebhookInput {
    pub webhook_id: async_graphql::ID,
    pub since: DateTime<Utc>,
    /// Defaults to now.
    pub until: Option<DateTime<Utc>>,
    /// Only events whose delivery to this endpoint failed.
    #[graphql(default)]
    pub only_failed: bool,
}

/// Input of `publishEvent`.
#[derive(Debug, InputObject)]
pub struct PublishEventInput {
    pub project_id: async_graphql::ID,
    /// `custom.<name>`, e.g. `custom.deploy.finished`.
    #[graphql(name = "type")]
    pub event_type: String,
    /// The event's data (any JSON, at most 64 KiB).
    pub data: async_graphql::Json<serde_json::Value>,
}

fn json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

/// A new `whsec_` secret: 24 random bytes, base64.
pub(crate) fn new_secret() -> String {
    let bytes = crate::vault::crypto::random_bytes(24);
    format!(
        "whsec_{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    )
}

async fn endpoint_url(app: &App, field: &str, url: &str) -> AppResult<String> {
    let url = validate::base_url(field, url)?;
    let parsed = url::Url::parse(&url).map_err(|e| AppError::invalid(field, e.to_string()))?;
    crate::outbound::ssrf::check_url(&parsed, &app.outbound.ssrf)
        .await
        .map_err(|e| AppError::invalid(field, e.to_string()))?;
    Ok(url)
}

fn event_types(field: &str, patterns: Vec<String>) -> AppResult<Vec<String>> {
    if patterns.is_empty() || patterns.len() > 100 {
        return Err(AppError::invalid(field, "give 1-100 event types"));
    }
    let mut out = Vec::with_capacity(patterns.len());
    for (i, pattern) in patterns.into_iter().enumerate() {
        let pattern = pattern.trim().to_owned();
        if !catalog::known_pattern(&pattern) {
            return Err(AppError::invalid(
                format!("{field}[{i}]"),
                format!("`{pattern}` matches no event type (see the eventTypes query)"),
            ));
        }
        if !out.contains(&pattern) {
            out.push(pattern);
        }
    }
    Ok(out)
}

fn rate(field: &str, value: Option<i32>) -> AppResult<Option<i32>> {
    value
        .map(|v| validate::within(field, v, 1, 10_000))
        .transpose()
}

fn webhook_journal(caller: &Caller, action: &str, row: &WebhookRow, message: &str) -> Journal {
    Journal {
        logs: vec![
            LogEntry::new(
                &row.project_id,
                None,
                LogLevel::Info,
                message,
                serde_json::json!({ "webhookId": row.id, "url": row.url, "by": caller.principal.name }),
            )
            .to_row(),
        ],
        audit: caller.audit(
            action,
            ("webhook", Some(&row.id)),
            Some(&row.project_id),
            serde_json::json!({ "url": row.url }),
        ),
        events: Vec::new(),
    }
}

/// Loads a webhook the caller may see; NOT_FOUND otherwise.
pub async fn get_row(app: &App, caller: &Caller, id: &str) -> AppResult<WebhookRow> {
    if IdKind::of(id) == Some(IdKind::Webhook)
        && let Some(row) = webhook_store::get(&app.store, id).await?
        && caller.principal.sees_project(&row.project_id)
    {
        return Ok(row);
    }
    Err(AppError::not_found("webhook", id))
}

pub async fn get(app: &App, caller: &Caller, id: &str) -> AppResult<Webhook> {
    Ok(Webhook::from_row(&get_row(app, caller, id).await?)?)
}

pub async fn list(
    app: &App,
    caller: &Caller,
    project_id: Option<&str>,
    request: &PageRequest,
) -> AppResult<Page<Webhook>> {
    let projects = match project_id {
        Some(id) => {
            super::projects::get(&app.store, caller, id).await?;
            Some(vec![id.to_owned()])
        }
        None => caller.principal.project_restriction(),
    };
    let page = webhook_store::page(&app.store, projects.as_deref(), request).await?;
    Ok(page.try_map(|row| Webhook::from_row(&row))?)
}

/// Creates an endpoint (EDITOR); returns it and its secret, shown this once.
pub async fn create(
    app: &App,
    caller: &Caller,
    input: CreateWebhookInput,
) -> AppResult<(Webhook, String)> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("input.projectId", &input.project_id, IdKind::Project)?;
    if !caller.principal.sees_project(&project_id)
        || projects::get(&app.store, &project_id).await?.is_none()
    {
        return Err(AppError::not_found("project", project_id));
    }
    let id = new_id(IdKind::Webhook);
    let secret = new_secret();
    let (key_id, sealed) = app
        .vault
        .seal_secret(&id, secret.as_bytes())
        .map_err(AppError::internal)?;
    let at = now();
    let row = WebhookRow {
        url: endpoint_url(app, "input.url", &input.url).await?,
        description: validate::optional_text(
            "input.description",
            input.description.as_deref(),
            2000,
        )?,
        event_types: json(&event_types("input.eventTypes", input.event_types)?),
        filter: json(&input.filter.unwrap_or_default()),
        headers: json(&match input.headers {
            Some(h) => validate::headers("input.headers", h.0)?,
            None => BTreeMap::new(),
        }),
        rate_limit_per_second: rate("input.rateLimitPerSecond", input.rate_limit_per_second)?,
        status: if input.enabled.unwrap_or(true) {
            WebhookStatus::Active
        } else {
            WebhookStatus::Paused
        }
        .as_str()
        .to_owned(),
        disabled_reason: None,
        key_id,
        secret: sealed,
        previous_key_id: None,
        previous_secret: None,
        previous_expires_at: None,
        consecutive_failures: 0,
        failing_since: None,
        last_delivery_at: None,
        created_by: caller.principal.name.clone(),
        created_at: at,
        updated_at: at,
        project_id,
        id,
    };
    let journal = webhook_journal(caller, "webhook.create", &row, "webhook created");
    webhook_store::insert(&app.store, &row, &journal).await?;
    publish_logs(app, &journal);
    Ok((Webhook::from_row(&row)?, secret))
}

fn publish_logs(app: &App, journal: &Journal) {
    for row in &journal.logs {
        if let Ok(entry) = LogEntry::from_row(row.clone()) {
            app.events
                .publish(crate::events::BusEvent::Log(Box::new(entry.to_row())));
        }
    }
    if !journal.events.is_empty() {
        app.workers.wake.dispatcher.notify_one();
    }
}

pub async fn update(app: &App, caller: &Caller, input: UpdateWebhookInput) -> AppResult<Webhook> {
    caller.principal.require(Role::Editor)?;
    let mut row = get_row(app, caller, &input.id).await?;
    let mut resumed = false;
    if let Some(url) = input.url {
        row.url = endpoint_url(app, "input.url", &url).await?;
    }
    match input.description {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => row.description = None,
        MaybeUndefined::Value(text) => {
            row.description = validate::optional_text("input.description", Some(&text), 2000)?
        }
    }
    if let Some(types) = input.event_types {
        row.event_types = json(&event_types("input.eventTypes", types)?);
    }
    if let Some(filter) = input.filter {
        row.filter = json(&filter);
    }
    if let Some(headers) = input.headers {
        row.headers = json(&validate::headers("input.headers", headers.0)?);
    }
    match input.rate_limit_per_second {
        MaybeUndefined::Undefined => {}
        MaybeUndefined::Null => row.rate_limit_per_second = None,
        MaybeUndefined::Value(v) => {
            row.rate_limit_per_second = rate("input.rateLimitPerSecond", Some(v))?
        }
    }
    if let Some(enabled) = input.enabled {
        let next = if enabled {
            WebhookStatus::Active
        } else {
            WebhookStatus::Paused
        };
        if enabled && row.status != WebhookStatus::Active.as_str() {
            resumed = true;
            row.consecutive_failures = 0;
            row.failing_since = None;
            row.disabled_reason = None;
        }
        row.status = next.as_str().to_owned();
    }
    row.updated_at = now();
    let journal = webhook_journal(caller, "webhook.update", &row, "webhook updated");
    if !webhook_store::update(&app.store, &row, &journal).await? {
        return Err(AppError::not_found("webhook", input.id.as_str()));
    }
    publish_logs(app, &journal);
    if resumed {
        app.workers.wake.deliveries.notify_one();
        super::alerts::on_webhook_enabled(app, &row.id).await;
    }
    Ok(Webhook::from_row(&row)?)
}

pub async fn delete(app: &App, caller: &Caller, id: &str) -> AppResult<Webhook> {
    caller.principal.require(Role::Editor)?;
    let row = get_row(app, caller, id).await?;
    let journal = webhook_journal(caller, "webhook.delete", &row, "webhook deleted");
    if !webhook_store::delete(&app.store, &row.id, &journal).await? {
        return Err(AppError::not_found("webhook", id));
    }
    publish_logs(app, &journal);
    Ok(Webhook::from_row(&row)?)
}

/// Issues a new secret; the previous one keeps signing for the grace period.
pub async fn rotate_secret(
    app: &App,
    caller: &Caller,
    id: &str,
    grace_hours: Option<i32>,
) -> AppResult<(Webhook, String)> {
    caller.principal.require(Role::Editor)?;
    let mut row = get_row(app, caller, id).await?;
    let grace = match grace_hours {
        Some(h) => i64::from(validate::within("graceHours", h, 0, 24 * 30)?),
        None => app.config.webhooks.secret_grace_hours,
    };
    let secret = new_secret();
    let (key_id, sealed) = app
        .vault
        .seal_secret(&row.id, secret.as_bytes())
        .map_err(AppError::internal)?;
    row.previous_key_id = Some(std::mem::replace(&mut row.key_id, key_id));
    row.previous_secret = Some(std::mem::replace(&mut row.secret, sealed));
    row.previous_expires_at = Some(now() + chrono::Duration::hours(grace));
    row.updated_at = now();
    let journal = webhook_journal(
        caller,
        "webhook.rotate_secret",
        &row,
        "webhook secret rotated",
    );
    if !webhook_store::update(&app.store, &row, &journal).await? {
        return Err(AppError::not_found("webhook", id));
    }
    publish_logs(app, &journal);
    Ok((Webhook::from_row(&row)?, secret))
}

/// The integration and category an event is about, for endpoint filters.
fn subject(payload: &serde_json::Value) -> (Option<&str>, Option<&str>) {
    let data = &payload["data"];
    let integration = data["integration"]["id"]
        .as_str()
        .or_else(|| data["integrationId"].as_str())
        .or_else(|| data["execution"]["integrationId"].as_str());
    (integration, data["integration"]["category"].as_str())
}

/// Whether an endpoint wants an event.
pub fn wants(webhook: &Webhook, event_type: &str, payload: &serde_json::Value) -> bool {
    if !webhook
        .event_types
        .iter()
        .any(|p| outbox::pattern_matches(p, event_type))
    {
        return false;
    }
    let (integration, category) = subject(payload);
    let filter = &webhook.filter;
    (filter.integration_ids.is_empty()
        || integration.is_some_and(|id| filter.integration_ids.iter().any(|f| f == id)))
        && (filter.categories.is_empty()
            || category.is_some_and(|c| filter.categories.iter().any(|f| f.as_str() == c)))
}

/// A pending delivery of `event` to `webhook_id` and the job that makes its first attempt.
pub fn plan_delivery(
    event: &EventRow,
    webhook_id: &str,
    first_delay: std::time::Duration,
) -> (DeliveryRow, JobRow) {
    let at = now();
    let run_at = at + chrono::Duration::from_std(first_delay).unwrap_or_default();
    let delivery = DeliveryRow {
        id: new_id(IdKind::Delivery),
        webhook_id: webhook_id.to_owned(),
        event_id: event.id.clone(),
        project_id: event.project_id.clone(),
        event_type: event.event_type.clone(),
        status: DeliveryStatus::Pending.as_str().to_owned(),
        attempt_count: 0,
        next_attempt_at: Some(run_at),
        last_status_code: None,
        created_at: at,
        updated_at: at,
    };
    let job = JobRow {
        id: new_id(IdKind::Job),
        kind: DELIVER_JOB.to_owned(),
        payload: webhook_store::job_payload(&delivery.id),
        queue_key: Some(webhook_id.to_owned()),
        run_at,
        attempts: 0,
        lease_owner: None,
        lease_expires_at: None,
        last_error: None,
        created_at: at,
    };
    (delivery, job)
}

/// The dispatcher's plan for a batch of events: a delivery per endpoint of the event's
/// project that wants it. Each endpoint and each payload is decoded once per batch.
pub fn plan_events(
    first_delay: std::time::Duration,
) -> impl Fn(&[EventRow], &[WebhookRow]) -> Vec<(DeliveryRow, JobRow)> + Sync {
    move |events, endpoints| {
        let endpoints: Vec<Webhook> = endpoints
            .iter()
            .filter_map(|row| Webhook::from_row(row).ok())
            .collect();
        let mut planned = Vec::new();
        for event in events {
            let Ok(payload) = serde_json::from_str::<serde_json::Value>(&event.payload) else {
                continue;
            };
            planned.extend(
                endpoints
                    .iter()
                    .filter(|w| w.project_id == event.project_id)
                    .filter(|w| wants(w, &event.event_type, &payload))
                    .map(|w| plan_delivery(event, &w.id, first_delay)),
            );
        }
        planned
    }
}

/// The delay before a new delivery's first attempt (the schedule's first entry).
pub fn first_delay(app: &App) -> std::time::Duration {
    app.config
        .webhooks
        .retry_schedule
        .first()
        .copied()
        .unwrap_or_default()
}

/// Sends a `webhook.test` event to one endpoint (EDITOR); returns the delivery.
pub async fn send_test_event(
    app: &App,
    caller: &Caller,
    webhook_id: &str,
) -> AppResult<DeliveryRow> {
    caller.principal.require(Role::Editor)?;
    let row = get_row(app, caller, webhook_id).await?;
    let mut event = outbox::event(
        &row.project_id,
        "webhook.test",
        serde_json::json!({ "message": "This is a test event from patchbay.", "webhookId": row.id }),
    );
    // Sent to this endpoint only, never fanned out.
    event.dispatched = true;
    let planned = plan_delivery(&event, &row.id, std::time::Duration::ZERO);
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "webhook.test",
            ("webhook", Some(&row.id)),
            Some(&row.project_id),
            serde_json::json!({ "eventId": event.id }),
        ),
        events: Vec::new(),
    };
    webhook_store::insert_deliveries(
        &app.store,
        std::slice::from_ref(&event),
        std::slice::from_ref(&planned),
        &journal,
    )
    .await?;
    app.workers.wake.deliveries.notify_one();
    Ok(planned.0)
}

/// Delivers a delivery's event to its endpoint again, as a new delivery with the same
/// `webhook-id` (EDITOR).
pub async fn redeliver(app: &App, caller: &Caller, delivery_id: &str) -> AppResult<DeliveryRow> {
    caller.principal.require(Role::Editor)?;
    let original = match webhook_store::get_delivery(&app.store, delivery_id).await? {
        Some(d) if caller.principal.sees_project(&d.project_id) => d,
        _ => return Err(AppError::not_found("delivery", delivery_id)),
    };
    let event = crate::store::events::get(&app.store, &original.event_id)
        .await?
        .ok_or_else(|| AppError::not_found("event", original.event_id.as_str()))?;
    let planned = plan_delivery(&event, &original.webhook_id, std::time::Duration::ZERO);
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "delivery.redeliver",
            ("delivery", Some(&original.id)),
            Some(&original.project_id),
            serde_json::json!({ "eventId": event.id, "newDeliveryId": planned.0.id }),
        ),
        events: Vec::new(),
    };
    webhook_store::insert_deliveries(&app.store, &[], std::slice::from_ref(&planned), &journal)
        .await?;
    app.workers.wake.deliveries.notify_one();
    Ok(planned.0)
}

/// Most events one replay sends.
const MAX_REPLAY: i64 = 10_000;

/// Sends again the events of a time range that the endpoint wants (EDITOR); returns how
/// many deliveries were created.
pub async fn replay(app: &App, caller: &Caller, input: ReplayWebhookInput) -> AppResult<i32> {
    caller.principal.require(Role::Editor)?;
    let row = get_row(app, caller, &input.webhook_id).await?;
    let webhook = Webhook::from_row(&row)?;
    let until = input.until.unwrap_or_else(Utc::now);
    if until < input.since {
        return Err(AppError::invalid("input.until", "must not be before since"));
    }
    let events = crate::store::events::in_range(
        &app.store,
        &row.project_id,
        input.since.naive_utc(),
        until.naive_utc(),
        MAX_REPLAY,
    )
    .await?;
    let (failed, succeeded) = if input.only_failed {
        (
            webhook_store::event_ids_with_status(&app.store, &row.id, &["FAILED"]).await?,
            webhook_store::event_ids_with_status(&app.store, &row.id, &["SUCCEEDED", "PENDING"])
                .await?,
        )
    } else {
        (Vec::new(), Vec::new())
    };
    let planned: Vec<_> = events
        .iter()
        .filter(|e| e.event_type != "webhook.test")
        .filter(|e| !input.only_failed || (failed.contains(&e.id) && !succeeded.contains(&e.id)))
        .filter(|e| {
            serde_json::from_str::<serde_json::Value>(&e.payload)
                .is_ok_and(|payload| wants(&webhook, &e.event_type, &payload))
        })
        .map(|e| plan_delivery(e, &row.id, std::time::Duration::ZERO))
        .collect();
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "webhook.replay",
            ("webhook", Some(&row.id)),
            Some(&row.project_id),
            serde_json::json!({ "since": input.since, "until": until, "onlyFailed": input.only_failed, "deliveries": planned.len() }),
        ),
        events: Vec::new(),
    };
    webhook_store::insert_deliveries(&app.store, &[], &planned, &journal).await?;
    app.workers.wake.deliveries.notify_one();
    Ok(planned.len() as i32)
}

/// Publishes a custom event (EDITOR): stored, then fanned out like any other.
pub async fn publish_event(
    app: &App,
    caller: &Caller,
    input: PublishEventInput,
) -> AppResult<EventRow> {
    caller.principal.require(Role::Editor)?;
    let project_id = validate::id("input.projectId", &input.project_id, IdKind::Project)?;
    if !caller.principal.sees_project(&project_id)
        || projects::get(&app.store, &project_id).await?.is_none()
    {
        return Err(AppError::not_found("project", project_id));
    }
    let event_type = input.event_type.trim();
    if !event_type.starts_with("custom.") || !catalog::valid_type(event_type) {
        return Err(AppError::invalid(
            "input.type",
            "must be `custom.<name>` of lowercase letters, digits, `_`, `-` and dots",
        ));
    }
    if input.data.0.to_string().len() > validate::MAX_JSON_BYTES {
        return Err(AppError::invalid("input.data", "at most 64 KiB"));
    }
    let event = outbox::event(&project_id, event_type, input.data.0);
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "event.publish",
            ("event", Some(&event.id)),
            Some(&project_id),
            serde_json::json!({ "type": event_type }),
        ),
        events: vec![event.clone()],
    };
    crate::store::logs::insert_journal(&app.store, &journal).await?;
    publish_logs(app, &journal);
    Ok(event)
}

/// A delivery, an attempt and an outbox message as stored: plain data the API shows.
pub use crate::store::events::EventRow as Message;
pub use crate::store::webhooks::{AttemptRow as Attempt, AttemptTotals, DeliveryRow as Delivery};

fn require_visible(
    caller: &Caller,
    project_id: &str,
    kind: &'static str,
    id: &str,
) -> AppResult<()> {
    if caller.principal.sees_project(project_id) {
        Ok(())
    } else {
        Err(AppError::not_found(kind, id))
    }
}

/// Deliveries to an endpoint the caller holds, oldest first.
pub async fn deliveries(
    store: &crate::store::Store,
    caller: &Caller,
    webhook: &Webhook,
    status: Option<DeliveryStatus>,
    request: &PageRequest,
) -> AppResult<Page<Delivery>> {
    require_visible(caller, &webhook.project_id, "webhook", &webhook.id)?;
    Ok(webhook_store::deliveries_page(
        store,
        &webhook.id,
        status.map(DeliveryStatus::as_str),
        request,
    )
    .await?)
}

/// Attempt totals of an endpoint the caller holds since a time.
pub async fn attempt_totals(
    store: &crate::store::Store,
    caller: &Caller,
    webhook: &Webhook,
    since: chrono::NaiveDateTime,
) -> AppResult<AttemptTotals> {
    require_visible(caller, &webhook.project_id, "webhook", &webhook.id)?;
    Ok(webhook_store::attempt_totals(store, &webhook.id, since).await?)
}

/// A delivery the caller may see; NOT_FOUND otherwise.
pub async fn get_delivery(
    store: &crate::store::Store,
    caller: &Caller,
    id: &str,
) -> AppResult<Delivery> {
    match webhook_store::get_delivery(store, id).await? {
        Some(row) if caller.principal.sees_project(&row.project_id) => Ok(row),
        _ => Err(AppError::not_found("delivery", id)),
    }
}

/// The attempts of a delivery the caller holds, oldest first.
pub async fn attempts(
    store: &crate::store::Store,
    caller: &Caller,
    delivery: &Delivery,
) -> AppResult<Vec<Attempt>> {
    require_visible(caller, &delivery.project_id, "delivery", &delivery.id)?;
    Ok(webhook_store::attempts(store, &delivery.id).await?)
}

/// The endpoint of a delivery the caller holds (null once deleted).
pub async fn endpoint_of(
    store: &crate::store::Store,
    caller: &Caller,
    delivery: &Delivery,
) -> AppResult<Option<Webhook>> {
    require_visible(caller, &delivery.project_id, "delivery", &delivery.id)?;
    Ok(webhook_store::get(store, &delivery.webhook_id)
        .await?
        .map(|row| Webhook::from_row(&row))
        .transpose()?)
}

/// The message of a delivery the caller holds.
pub async fn message_of(
    store: &crate::store::Store,
    caller: &Caller,
    delivery: &Delivery,
) -> AppResult<Option<Message>> {
    require_visible(caller, &delivery.project_id, "delivery", &delivery.id)?;
    Ok(crate::store::events::get(store, &delivery.event_id).await?)
}

/// Which outbox events a live subscriber wants, within one project it may see: the
/// `events` subscription's filter (the same patterns webhooks use, wildcards included).
#[derive(Debug, Clone)]
pub struct EventSelection {
    project_id: String,
    patterns: Vec<String>,
}

impl EventSelection {
    /// NOT_FOUND for a project the caller cannot see; BAD_USER_INPUT (with the path) for
    /// a pattern that matches no event type.
    pub async fn visible(
        store: &crate::store::Store,
        caller: &Caller,
        project_id: &str,
        types: Option<Vec<String>>,
    ) -> AppResult<Self> {
        super::projects::get(store, caller, project_id).await?;
        let patterns = match types {
            Some(types) => event_types("types", types)?,
            None => vec!["*".to_owned()],
        };
        Ok(EventSelection {
            project_id: project_id.to_owned(),
            patterns,
        })
    }

    /// A dispatched event, if the selection wants it.
    pub fn live(&self, event: &Message) -> Option<Message> {
        (event.project_id == self.project_id
            && self
                .patterns
                .iter()
                .any(|p| outbox::pattern_matches(p, &event.event_type)))
        .then(|| event.clone())
    }
}
