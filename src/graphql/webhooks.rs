//! Webhooks and events in the API: endpoints, deliveries and attempts, manual controls,
//! custom events, incoming-webhook verification, and the live `deliveries` subscription.

use async_graphql::{Context, ID, Json, Object, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{FutureExt, Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::{ApiError, ApiResult};
use super::loaders::ProjectLoader;
use super::projects::Project;
use super::{app, caller};
use crate::domain::executions::TimeWindow;
use crate::domain::incoming::{self, IncomingWebhook, SetIncomingWebhookInput};
use crate::domain::webhooks::{
    self as domain, CreateWebhookInput, DeliveryStatus, PublishEventInput, ReplayWebhookInput,
    UpdateWebhookInput, WebhookFilter, WebhookStatus,
};
use crate::error::{AppError, AppResult};
use crate::events::{BusEvent, catalog};
use crate::ids::IdKind;

/// A webhook endpoint.
pub struct Webhook(pub domain::Webhook);

impl ConnectionNode for Webhook {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "url",
        "description",
        "eventTypes",
        "filter",
        "headers",
        "rateLimitPerSecond",
        "enabled",
        "status",
        "disabledReason",
        "failureCount",
        "failingSince",
        "lastDeliveryAt",
        "previousSecretExpiresAt",
        "createdBy",
        "createdAt",
        "updatedAt",
    ];
}

#[Object]
impl Webhook {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let loader = ctx.data_unchecked::<async_graphql::dataloader::DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.0.project_id.clone())
            .await?
            .map(Project))
    }
    async fn url(&self) -> &str {
        &self.0.url
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Event types and patterns it subscribes to.
    async fn event_types(&self) -> &[String] {
        &self.0.event_types
    }
    async fn filter(&self) -> &WebhookFilter {
        &self.0.filter
    }
    async fn headers(&self) -> Json<&std::collections::BTreeMap<String, String>> {
        Json(&self.0.headers)
    }
    async fn rate_limit_per_second(&self) -> Option<i32> {
        self.0.rate_limit_per_second
    }
    /// True when ACTIVE.
    async fn enabled(&self) -> bool {
        self.0.status == WebhookStatus::Active
    }
    async fn status(&self) -> WebhookStatus {
        self.0.status
    }
    async fn disabled_reason(&self) -> Option<&str> {
        self.0.disabled_reason.as_deref()
    }
    /// Failed attempts in a row.
    async fn failure_count(&self) -> i32 {
        self.0.consecutive_failures
    }
    async fn failing_since(&self) -> Option<DateTime<Utc>> {
        self.0.failing_since
    }
    async fn last_delivery_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_delivery_at
    }
    /// Until when the previous secret still signs beside the current one.
    async fn previous_secret_expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.previous_secret_expires_at
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
    /// Deliveries to this endpoint, oldest first.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        status: Option<DeliveryStatus>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<Delivery>> {
        let request = PageArgs::forward(first, after).request(ctx, IdKind::Delivery)?;
        let page =
            domain::deliveries(&app(ctx).store, caller(ctx)?, &self.0, status, &request).await?;
        Ok(connection(page, &request, |d| d.id.clone(), Delivery))
    }
    /// Delivery attempts over a window (default: the last day).
    async fn stats(
        &self,
        ctx: &Context<'_>,
        window: Option<TimeWindow>,
    ) -> ApiResult<WebhookStats> {
        let window = window.unwrap_or_default();
        let totals =
            domain::attempt_totals(&app(ctx).store, caller(ctx)?, &self.0, window.since()).await?;
        Ok(WebhookStats {
            window,
            attempts: totals.attempts,
            successful_attempts: totals.successes,
            success_rate: (totals.attempts > 0)
                .then(|| totals.successes as f64 / totals.attempts as f64),
            p95_latency_ms: totals.p95_latency_ms,
            last_attempt_at: totals.last_at.map(|t| t.and_utc()),
        })
    }
}

/// Delivery statistics of an endpoint.
#[derive(SimpleObject)]
pub struct WebhookStats {
    pub window: TimeWindow,
    pub attempts: i64,
    pub successful_attempts: i64,
    /// Successful attempts over all attempts, 0-1; null without attempts.
    pub success_rate: Option<f64>,
    pub p95_latency_ms: Option<i32>,
    pub last_attempt_at: Option<DateTime<Utc>>,
}

/// One event to one endpoint, with its attempts.
pub struct Delivery(pub domain::Delivery);

impl ConnectionNode for Delivery {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "eventType",
        "status",
        "attemptCount",
        "nextAttemptAt",
        "lastStatusCode",
        "createdAt",
    ];
}

#[Object]
impl Delivery {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The endpoint (same as `webhook`; the name api.md gives it).
    async fn endpoint(&self, ctx: &Context<'_>) -> ApiResult<Option<Webhook>> {
        self.load_webhook(ctx).await
    }
    /// The message delivered (same as `event`; the name api.md gives it).
    async fn message(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        self.load_event(ctx).await
    }
    async fn webhook(&self, ctx: &Context<'_>) -> ApiResult<Option<Webhook>> {
        self.load_webhook(ctx).await
    }
    /// The message delivered (its id is the `webhook-id` header).
    async fn event(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        self.load_event(ctx).await
    }
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    async fn status(&self) -> ApiResult<DeliveryStatus> {
        Ok(
            DeliveryStatus::from_stored("deliveries.status", &self.0.status)
                .map_err(AppError::from)?,
        )
    }
    async fn attempt_count(&self) -> i32 {
        self.0.attempt_count
    }
    async fn attempts(&self, ctx: &Context<'_>) -> ApiResult<Vec<DeliveryAttempt>> {
        Ok(domain::attempts(&app(ctx).store, caller(ctx)?, &self.0)
            .await?
            .into_iter()
            .map(DeliveryAttempt)
            .collect())
    }
    /// When the next attempt is due; null once delivered or failed for good.
    async fn next_attempt_at(&self) -> Option<DateTime<Utc>> {
        self.0.next_attempt_at.map(|t| t.and_utc())
    }
    async fn last_status_code(&self) -> Option<i32> {
        self.0.last_status_code
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
}

impl Delivery {
    async fn load_webhook(&self, ctx: &Context<'_>) -> ApiResult<Option<Webhook>> {
        Ok(domain::endpoint_of(&app(ctx).store, caller(ctx)?, &self.0)
            .await?
            .map(Webhook))
    }

    async fn load_event(&self, ctx: &Context<'_>) -> ApiResult<Option<Event>> {
        Ok(domain::message_of(&app(ctx).store, caller(ctx)?, &self.0)
            .await?
            .map(Event))
    }
}

/// One try at delivering.
pub struct DeliveryAttempt(pub domain::Attempt);

#[Object]
impl DeliveryAttempt {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn delivery_id(&self) -> ID {
        ID(self.0.delivery_id.clone())
    }
    async fn webhook_id(&self) -> ID {
        ID(self.0.webhook_id.clone())
    }
    /// The endpoint's status; null when no answer came.
    async fn status_code(&self) -> Option<i32> {
        self.0.status_code
    }
    async fn latency_ms(&self) -> i32 {
        self.0.latency_ms
    }
    /// The first 4 KiB of the endpoint's answer.
    async fn response_snippet(&self) -> Option<&str> {
        self.0.response_snippet.as_deref()
    }
    async fn error(&self) -> Option<&str> {
        self.0.error.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at.and_utc()
    }
}

/// A stored event (a message of the outbox).
pub struct Event(pub domain::Message);

#[Object]
impl Event {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    #[graphql(name = "type")]
    async fn event_type(&self) -> &str {
        &self.0.event_type
    }
    async fn project_id(&self) -> ID {
        ID(self.0.project_id.clone())
    }
    /// The document delivered: `{type, id, timestamp, projectId, data}`.
    async fn payload(&self) -> ApiResult<Json<serde_json::Value>> {
        Ok(Json(
            serde_json::from_str(&self.0.payload).map_err(AppError::internal)?,
        ))
    }
    /// When the change happened (the document's `timestamp`).
    async fn timestamp(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
    /// The document's `data`: what changed.
    async fn data(&self) -> ApiResult<Json<serde_json::Value>> {
        let mut payload: serde_json::Value =
            serde_json::from_str(&self.0.payload).map_err(AppError::internal)?;
        Ok(Json(payload["data"].take()))
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at.and_utc()
    }
}

/// An event type webhooks can subscribe to.
#[derive(SimpleObject)]
pub struct EventType {
    pub name: String,
    pub description: String,
    /// An example of the delivered document.
    pub example: Json<serde_json::Value>,
}

#[derive(SimpleObject)]
pub struct WebhookPayload {
    pub webhook: Webhook,
}

/// A webhook with its secret, shown only here: store it now.
#[derive(SimpleObject)]
pub struct WebhookSecretPayload {
    pub webhook: Webhook,
    /// `whsec_…`: verify deliveries with any Standard Webhooks library.
    pub secret: String,
}

#[derive(SimpleObject)]
pub struct DeliveryPayload {
    pub delivery: Delivery,
}

#[derive(SimpleObject)]
pub struct ReplayPayload {
    /// Deliveries created.
    pub count: i32,
}

#[derive(SimpleObject)]
pub struct EventPayload {
    pub event: Event,
}

#[derive(SimpleObject)]
pub struct IncomingWebhookPayload {
    pub incoming_webhook: IncomingWebhook,
}

/// Webhooks the caller can see, optionally of one project, oldest first.
pub(crate) async fn webhook_connection(
    ctx: &Context<'_>,
    project_id: Option<&str>,
    first: Option<i32>,
    after: Option<String>,
) -> ApiResult<IdConnection<Webhook>> {
    let request = PageArgs::forward(first, after).request(ctx, IdKind::Webhook)?;
    let page = domain::list(app(ctx), caller(ctx)?, project_id, &request).await?;
    Ok(connection(page, &request, |w| w.id.clone(), Webhook))
}

/// The caller's visible webhook, as an API object.
pub(crate) async fn get(ctx: &Context<'_>, id: &str) -> AppResult<Webhook> {
    Ok(Webhook(domain::get(app(ctx), caller(ctx)?, id).await?))
}

/// The caller's visible delivery.
pub(crate) async fn get_delivery(ctx: &Context<'_>, id: &str) -> AppResult<Delivery> {
    Ok(Delivery(
        domain::get_delivery(&app(ctx).store, caller(ctx)?, id).await?,
    ))
}

#[derive(Default)]
pub struct WebhookQuery;

#[Object]
impl WebhookQuery {
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<Webhook>> {
        webhook_connection(ctx, project_id.as_ref().map(|id| id.as_str()), first, after).await
    }

    async fn webhook(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Webhook>> {
        Ok(Some(get(ctx, &id).await?))
    }

    /// Every event type, with a description and an example payload.
    async fn event_types(&self) -> Vec<EventType> {
        catalog::EVENT_TYPES
            .iter()
            .map(|t| EventType {
                name: t.name.to_owned(),
                description: t.description.to_owned(),
                example: Json(serde_json::json!({
                    "type": t.name,
                    "id": "msg_01jd8x3m5q6w7e8r9t0y1u2i3o",
                    "timestamp": "2026-11-23T10:00:00.000Z",
                    "projectId": "prj_01jd8x3m5q6w7e8r9t0y1u2i3o",
                    "data": (t.example_data)(),
                })),
            })
            .collect()
    }
}

#[derive(Default)]
pub struct WebhookMutation;

#[Object]
impl WebhookMutation {
    /// Creates an endpoint (EDITOR). The secret is in the payload, this once.
    async fn create_webhook(
        &self,
        ctx: &Context<'_>,
        input: CreateWebhookInput,
    ) -> ApiResult<WebhookSecretPayload> {
        let (webhook, secret) = domain::create(app(ctx), caller(ctx)?, input).await?;
        Ok(WebhookSecretPayload {
            webhook: Webhook(webhook),
            secret,
        })
    }

    /// Changes an endpoint; `enabled: false` pauses, `true` resumes or re-enables (EDITOR).
    async fn update_webhook(
        &self,
        ctx: &Context<'_>,
        input: UpdateWebhookInput,
    ) -> ApiResult<WebhookPayload> {
        let webhook = domain::update(app(ctx), caller(ctx)?, input)
            .boxed()
            .await?;
        Ok(WebhookPayload {
            webhook: Webhook(webhook),
        })
    }

    async fn delete_webhook(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<super::integrations::DeletePayload> {
        let webhook = domain::delete(app(ctx), caller(ctx)?, &id).await?;
        Ok(super::integrations::DeletePayload {
            deleted_id: ID(webhook.id),
        })
    }

    /// Issues a new secret; the old one keeps signing beside it for `graceHours`
    /// (default 24) so receivers can switch without losing a delivery.
    async fn rotate_webhook_secret(
        &self,
        ctx: &Context<'_>,
        id: ID,
        grace_hours: Option<i32>,
    ) -> ApiResult<WebhookSecretPayload> {
        let (webhook, secret) =
            domain::rotate_secret(app(ctx), caller(ctx)?, &id, grace_hours).await?;
        Ok(WebhookSecretPayload {
            webhook: Webhook(webhook),
            secret,
        })
    }

    /// Sends a `webhook.test` event to this endpoint only.
    async fn send_test_event(
        &self,
        ctx: &Context<'_>,
        webhook_id: ID,
    ) -> ApiResult<DeliveryPayload> {
        let delivery = domain::send_test_event(app(ctx), caller(ctx)?, &webhook_id).await?;
        Ok(DeliveryPayload {
            delivery: Delivery(delivery),
        })
    }

    /// Delivers a delivery's event again (same `webhook-id`), as a new delivery.
    async fn redeliver(&self, ctx: &Context<'_>, delivery_id: ID) -> ApiResult<DeliveryPayload> {
        let delivery = domain::redeliver(app(ctx), caller(ctx)?, &delivery_id).await?;
        Ok(DeliveryPayload {
            delivery: Delivery(delivery),
        })
    }

    /// Sends again the events of a time range the endpoint wants (or only those whose
    /// delivery failed).
    async fn replay_webhook(
        &self,
        ctx: &Context<'_>,
        input: ReplayWebhookInput,
    ) -> ApiResult<ReplayPayload> {
        let count = domain::replay(app(ctx), caller(ctx)?, input).await?;
        Ok(ReplayPayload { count })
    }

    /// Publishes a `custom.*` event with your own data (EDITOR).
    async fn publish_event(
        &self,
        ctx: &Context<'_>,
        input: PublishEventInput,
    ) -> ApiResult<EventPayload> {
        let event = domain::publish_event(app(ctx), caller(ctx)?, input).await?;
        Ok(EventPayload {
            event: Event(event),
        })
    }

    /// Sets how `/hooks/{integrationId}` verifies the provider's webhooks (EDITOR).
    async fn set_incoming_webhook(
        &self,
        ctx: &Context<'_>,
        input: SetIncomingWebhookInput,
    ) -> ApiResult<IncomingWebhookPayload> {
        let incoming_webhook = incoming::set(app(ctx), caller(ctx)?, input).await?;
        Ok(IncomingWebhookPayload { incoming_webhook })
    }
}

#[derive(Default)]
pub struct DeliverySubscription;

#[Subscription]
impl DeliverySubscription {
    /// Delivery attempts as they finish, of one endpoint or of every endpoint the caller
    /// can see.
    async fn deliveries(
        &self,
        ctx: &Context<'_>,
        webhook_id: Option<ID>,
    ) -> Result<impl Stream<Item = async_graphql::Result<DeliveryAttempt>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let caller = caller(ctx)?.clone();
        let webhook_id = match webhook_id {
            Some(id) => Some(domain::get(&app, &caller, &id).await?.id),
            None => None,
        };
        let receiver = app.events.subscribe();
        Ok(BroadcastStream::new(receiver).filter_map(move |event| {
            let app = app.clone();
            let caller = caller.clone();
            let webhook_id = webhook_id.clone();
            async move {
                match event {
                    Ok(event) => match &*event {
                        BusEvent::DeliveryAttempt(attempt) => {
                            let wanted = match &webhook_id {
                                Some(id) => *id == attempt.webhook_id,
                                None => domain::get(&app, &caller, &attempt.webhook_id)
                                    .await
                                    .is_ok(),
                            };
                            wanted.then(|| Ok(DeliveryAttempt((**attempt).clone())))
                        }
                        _ => None,
                    },
                    Err(BroadcastStreamRecvError::Lagged(missed)) => {
                        Some(Err(super::lagged(missed)))
                    }
                }
            }
        }))
    }
}
