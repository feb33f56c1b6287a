//! One webhook delivery attempt: Standard Webhooks signing (`webhook-id` = the event's
//! id, stable across retries and redeliveries; `v1,` HMAC-SHA256 signatures, the
//! rotated-out secret signing too during its grace period), per-endpoint concurrency and
//! rate limit, the retry schedule with ±20% jitter and `Retry-After`, 410 Gone and
//! sustained failure disabling the endpoint.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use rand::Rng;

use crate::app::App;
use crate::domain::logs::{LogEntry, LogLevel};
use crate::domain::signatures;
use crate::domain::webhooks::{DeliveryStatus, WebhookStatus};
use crate::events::{BusEvent, outbox};
use crate::ids::{IdKind, new_id};
use crate::outbound::classify::parse_retry_after;
use crate::store::events::EventRow;
use crate::store::jobs::{self as job_store, JobRow};
use crate::store::webhooks::{self as webhook_store, AttemptRecord, AttemptRow, WebhookRow};
use crate::store::{Journal, Store, now};

/// Bytes of a response body kept with an attempt.
const SNIPPET_BYTES: usize = 4096;
/// How long a paused endpoint's deliveries wait before they look again.
const PAUSED_RECHECK: Duration = Duration::from_secs(30);

/// Per-endpoint limits of this process: in-flight deliveries and deliveries per second.
pub struct EndpointLimits {
    concurrency: usize,
    endpoints: moka::sync::Cache<String, Arc<EndpointShare>>,
    rates: moka::sync::Cache<String, Arc<(i32, DefaultDirectRateLimiter)>>,
}

/// One endpoint's share of this process.
struct EndpointShare {
    /// Calls in flight (the endpoint's concurrency).
    slots: Arc<tokio::sync::Semaphore>,
    /// Jobs claimed: in flight, waiting for a slot, or being recorded.
    claimed: std::sync::atomic::AtomicUsize,
}

/// A claimed job of an endpoint; its room comes back when this is dropped.
pub struct Held(Arc<EndpointShare>);

impl Drop for Held {
    fn drop(&mut self) {
        self.0
            .claimed
            .fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
    }
}

impl EndpointLimits {
    pub fn new(concurrency: usize) -> Self {
        fn cache<V: Clone + Send + Sync + 'static>() -> moka::sync::Cache<String, V> {
            moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(3600))
                .build()
        }
        EndpointLimits {
            concurrency,
            endpoints: cache(),
            rates: cache(),
        }
    }

    fn share(&self, webhook_id: &str) -> Arc<EndpointShare> {
        self.endpoints.get_with_by_ref(webhook_id, || {
            Arc::new(EndpointShare {
                slots: Arc::new(tokio::sync::Semaphore::new(self.concurrency)),
                claimed: Default::default(),
            })
        })
    }

    /// Jobs of an endpoint this process may claim now: its concurrency in flight and as
    /// many again waiting for a slot, so the next delivery starts the moment one answers
    /// instead of after a claim round. A waiting job gets its slot within one attempt
    /// timeout (the semaphore is fair), so it runs well inside its lease.
    pub fn room(&self, webhook_id: &str) -> usize {
        let claimed = self.endpoints.get(webhook_id).map_or(0, |share| {
            share.claimed.load(std::sync::atomic::Ordering::Relaxed)
        });
        (2 * self.concurrency).saturating_sub(claimed)
    }

    /// Counts a claimed job against its endpoint's room until the result is dropped.
    pub fn hold(&self, webhook_id: &str) -> Held {
        let share = self.share(webhook_id);
        share
            .claimed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        Held(share)
    }

    /// Waits for one of the endpoint's call slots.
    async fn slot(&self, webhook_id: &str) -> anyhow::Result<tokio::sync::OwnedSemaphorePermit> {
        Ok(self.share(webhook_id).slots.clone().acquire_owned().await?)
    }

    /// `Err(wait)` when the endpoint's per-second limit is reached.
    fn admit(&self, webhook_id: &str, per_second: Option<i32>) -> Result<(), Duration> {
        let Some(per_second) = per_second else {
            return Ok(());
        };
        let mut limiter = self.rates.get(webhook_id);
        if limiter.as_ref().is_none_or(|l| l.0 != per_second) {
            let rate = NonZeroU32::new(per_second.max(1).unsigned_abs()).unwrap_or(NonZeroU32::MIN);
            let fresh = Arc::new((per_second, RateLimiter::direct(Quota::per_second(rate))));
            self.rates.insert(webhook_id.to_owned(), fresh.clone());
            limiter = Some(fresh);
        }
        match limiter {
            Some(limiter) => limiter
                .1
                .check()
                .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now())),
            None => Ok(()),
        }
    }
}

pub use crate::store::webhooks::DeliveryContext;

/// The delivery a job is for.
pub fn delivery_id(job: &JobRow) -> Option<String> {
    let payload: serde_json::Value = serde_json::from_str(&job.payload).ok()?;
    payload["deliveryId"].as_str().map(str::to_owned)
}

/// Runs one claimed delivery job with its context (read for the claimed batch; `None`
/// when the delivery is gone). Failures of patchbay itself (store down) leave the job
/// leased; it runs again when the lease expires.
pub async fn run(
    app: &App,
    recorder: &Recorder,
    job: JobRow,
    context: Option<DeliveryContext>,
    held: Option<Held>,
) {
    if let Err(err) = attempt(app, recorder, &job, context, held).await {
        tracing::warn!(job = %job.id, error = format!("{err:#}"), "delivery job failed; it will be retried");
    }
}

fn later(wait: Duration) -> chrono::NaiveDateTime {
    now() + chrono::Duration::from_std(wait).unwrap_or_default()
}

/// `held` counts the job against its endpoint's room until its call is done (a job whose
/// attempt is being recorded no longer waits for a slot, so it need not hold back claims).
async fn attempt(
    app: &App,
    recorder: &Recorder,
    job: &JobRow,
    context: Option<DeliveryContext>,
    held: Option<Held>,
) -> anyhow::Result<()> {
    if delivery_id(job).is_none() {
        anyhow::bail!("delivery job without deliveryId");
    }
    let Some((delivery, webhook, event)) = context else {
        webhook_store::delete_job(&app.store, &job.id).await?;
        return Ok(());
    };
    match WebhookStatus::from_stored("webhooks.status", &webhook.status)? {
        WebhookStatus::Disabled => {
            webhook_store::finish_without_attempt(&app.store, &job.id, &delivery.id, "FAILED")
                .await?;
            return Ok(());
        }
        WebhookStatus::Paused => {
            job_store::release(&app.store, &job.id, later(PAUSED_RECHECK)).await?;
            return Ok(());
        }
        WebhookStatus::Active => {}
    }
    let limits = &app.workers.endpoint_limits;
    let answer = {
        let _slot = limits.slot(&webhook.id).await?;
        if let Err(wait) = limits.admit(&webhook.id, webhook.rate_limit_per_second) {
            job_store::release(&app.store, &job.id, later(wait)).await?;
            return Ok(());
        }
        // The endpoint's slot is held for the call only: once it answered, the next
        // delivery may go while this one's record waits for its batch.
        let answer = send(app, &webhook, &event).await;
        drop(held);
        answer
    };
    finish(
        app,
        recorder,
        job,
        &delivery.id,
        delivery.attempt_count,
        &webhook,
        answer,
    )
    .await
}

/// Most attempts written in one transaction.
const RECORD_BATCH: usize = 256;

type RecordReply = tokio::sync::oneshot::Sender<Result<WebhookRow, String>>;

/// Writes finished attempts in batches: whatever finished while the previous batch was
/// being written goes in one transaction (one attempt alone waits for nobody). A job
/// stays leased until its attempt is written, so a crash before that only repeats the
/// attempt (same `webhook-id`), never loses it.
#[derive(Clone)]
pub struct Recorder {
    sender: tokio::sync::mpsc::Sender<(AttemptRecord, RecordReply)>,
}

impl Recorder {
    /// Starts the writer; it stops when the last `Recorder` clone is dropped.
    pub fn spawn(store: Store) -> Self {
        let (sender, receiver) = tokio::sync::mpsc::channel(RECORD_BATCH * 4);
        tokio::spawn(write_batches(store, receiver));
        Recorder { sender }
    }

    /// Stores one attempt (with others finishing meanwhile); the endpoint as it is after.
    async fn record(&self, record: AttemptRecord) -> anyhow::Result<WebhookRow> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        self.sender
            .send((record, reply))
            .await
            .map_err(|_| anyhow::anyhow!("the attempt writer has stopped"))?;
        answer
            .await
            .map_err(|_| anyhow::anyhow!("the attempt writer has stopped"))?
            .map_err(|err| anyhow::anyhow!(err))
    }
}

async fn write_batches(
    store: Store,
    mut receiver: tokio::sync::mpsc::Receiver<(AttemptRecord, RecordReply)>,
) {
    while let Some(first) = receiver.recv().await {
        let mut batch = vec![first];
        while batch.len() < RECORD_BATCH {
            match receiver.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (records, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match webhook_store::record_attempts(&store, &records).await {
            Ok(after) => answer(&records, replies, &after),
            Err(err) if records.len() > 1 => {
                // One bad record (its delivery deleted meanwhile) must not fail the
                // others: write them one by one.
                tracing::debug!(error = %err, "attempt batch failed; writing it row by row");
                for (record, reply) in records.into_iter().zip(replies) {
                    let result =
                        webhook_store::record_attempts(&store, std::slice::from_ref(&record))
                            .await
                            .map_err(|err| err.to_string())
                            .and_then(|after| endpoint_after(&after, &record));
                    let _ = reply.send(result);
                }
            }
            Err(err) => {
                for reply in replies {
                    let _ = reply.send(Err(err.to_string()));
                }
            }
        }
    }
}

fn endpoint_after(
    after: &std::collections::HashMap<String, WebhookRow>,
    record: &AttemptRecord,
) -> Result<WebhookRow, String> {
    after
        .get(&record.attempt.webhook_id)
        .cloned()
        .ok_or_else(|| format!("endpoint {} is gone", record.attempt.webhook_id))
}

fn answer(
    records: &[AttemptRecord],
    replies: Vec<RecordReply>,
    after: &std::collections::HashMap<String, WebhookRow>,
) {
    for (record, reply) in records.iter().zip(replies) {
        let _ = reply.send(endpoint_after(after, record));
    }
}

/// What one attempt got.
struct Answer {
    status: Option<u16>,
    latency: Duration,
    snippet: Option<String>,
    error: Option<String>,
    retry_after: Option<Duration>,
}

async fn send(app: &App, webhook: &WebhookRow, event: &EventRow) -> Answer {
    let started = Instant::now();
    let failed = |error: String| Answer {
        status: None,
        latency: started.elapsed(),
        snippet: None,
        error: Some(error),
        retry_after: None,
    };
    let url = match url::Url::parse(&webhook.url) {
        Ok(url) => url,
        Err(e) => return failed(format!("invalid URL: {e}")),
    };
    if let Err(refused) = crate::outbound::ssrf::check_literal(&url, &app.outbound.ssrf) {
        return failed(refused.to_string());
    }
    let timestamp = chrono::Utc::now().timestamp();
    let body = event.payload.as_bytes();
    let mut signatures = Vec::new();
    let mut secrets = vec![(webhook.key_id.as_str(), webhook.secret.as_slice())];
    if let (Some(key_id), Some(sealed), Some(until)) = (
        &webhook.previous_key_id,
        &webhook.previous_secret,
        webhook.previous_expires_at,
    ) && until > now()
    {
        secrets.push((key_id.as_str(), sealed.as_slice()));
    }
    for (key_id, sealed) in secrets {
        let Ok(secret) = app.vault.open_secret(&webhook.id, key_id, sealed) else {
            return failed("the endpoint's secret cannot be opened".to_owned());
        };
        let secret = String::from_utf8_lossy(&secret).into_owned();
        if let Some(signature) = signatures::sign(&secret, &event.id, timestamp, body) {
            signatures.push(signature);
        }
    }
    let mut request = app
        .outbound
        .http
        .post(url)
        .timeout(app.config.webhooks.timeout)
        .header("content-type", "application/json")
        .header(
            "user-agent",
            concat!("patchbay-webhooks/", env!("CARGO_PKG_VERSION")),
        );
    let extra: std::collections::BTreeMap<String, String> =
        serde_json::from_str(&webhook.headers).unwrap_or_default();
    for (name, value) in &extra {
        request = request.header(name, value);
    }
    let response = request
        .header("webhook-id", &event.id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signatures.join(" "))
        .body(body.to_vec())
        .send()
        .await;
    let response = match response {
        Ok(response) => response,
        Err(err) => {
            let classified = crate::outbound::classify::CallError::from_transport(err);
            return failed(classified.message);
        }
    };
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(http::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(parse_retry_after);
    let snippet = crate::outbound::engine::read_capped(response, SNIPPET_BYTES)
        .await
        .map(|(bytes, _)| String::from_utf8_lossy(&bytes).into_owned())
        .ok();
    Answer {
        status: Some(status),
        latency: started.elapsed(),
        snippet,
        error: (!(200..300).contains(&status)).then(|| format!("the endpoint answered {status}")),
        retry_after: matches!(status, 429 | 503).then_some(retry_after).flatten(),
    }
}

fn jittered(delay: Duration) -> Duration {
    delay.mul_f64(rand::rng().random_range(0.8..=1.2))
}

async fn finish(
    app: &App,
    recorder: &Recorder,
    job: &JobRow,
    delivery_id: &str,
    attempts_before: i32,
    webhook: &WebhookRow,
    answer: Answer,
) -> anyhow::Result<()> {
    let config = &app.config.webhooks;
    let success = answer.error.is_none();
    let gone = answer.status == Some(410);
    app.telemetry.delivery(if success {
        "delivered"
    } else if answer.status.is_some() {
        "rejected"
    } else {
        "unreachable"
    });
    let attempt_number = attempts_before as usize + 1;
    let next = if success || gone {
        None
    } else {
        config.retry_schedule.get(attempt_number).map(|delay| {
            let wait = match answer.retry_after {
                Some(asked) => asked.clamp(Duration::from_secs(1), Duration::from_secs(3600)),
                None => jittered(*delay),
            };
            later(wait)
        })
    };
    let status = match (success, next) {
        (true, _) => DeliveryStatus::Succeeded,
        (false, Some(_)) => DeliveryStatus::Pending,
        (false, None) => DeliveryStatus::Failed,
    };
    let attempt = AttemptRow {
        id: new_id(IdKind::Attempt),
        delivery_id: delivery_id.to_owned(),
        webhook_id: webhook.id.clone(),
        status_code: answer.status.map(i32::from),
        latency_ms: answer.latency.as_millis().min(i32::MAX as u128) as i32,
        response_snippet: answer.snippet,
        error: answer.error.clone(),
        at: now(),
    };
    let after = recorder
        .record(AttemptRecord {
            attempt: attempt.clone(),
            delivery_status: status.as_str(),
            next_attempt_at: next,
            job_id: job.id.clone(),
            job_error: answer.error,
            success,
        })
        .await?;
    app.events
        .publish(BusEvent::DeliveryAttempt(Box::new(attempt)));
    if next.is_some() {
        app.workers.wake.deliveries.notify_one();
    }
    let failing_too_long = after
        .failing_since
        .is_some_and(|since| since <= now() - config.disable_after);
    let reason = if gone {
        Some("the endpoint answered 410 Gone".to_owned())
    } else if after.consecutive_failures >= config.disable_after_failures {
        Some(format!(
            "{} failed attempts in a row",
            after.consecutive_failures
        ))
    } else if failing_too_long {
        Some(format!(
            "failing for more than {} hours",
            config.disable_after.num_hours()
        ))
    } else {
        None
    };
    if let Some(reason) = reason {
        disable(app, &after, &reason).await?;
    }
    Ok(())
}

/// Disables an endpoint: a `webhook.disabled` event and a WARN log entry in the same
/// transaction, then a WEBHOOK_DISABLED alert.
async fn disable(app: &App, webhook: &WebhookRow, reason: &str) -> anyhow::Result<()> {
    let summary = json_webhook(webhook);
    let log = LogEntry::new(
        &webhook.project_id,
        None,
        LogLevel::Warn,
        format!("webhook disabled: {reason}"),
        serde_json::json!({ "webhookId": webhook.id, "url": webhook.url, "reason": reason }),
    );
    let journal = Journal {
        logs: vec![log.to_row()],
        audit: crate::domain::access::Caller::system().audit(
            "webhook.disable",
            ("webhook", Some(&webhook.id)),
            Some(&webhook.project_id),
            serde_json::json!({ "reason": reason }),
        ),
        events: vec![outbox::event(
            &webhook.project_id,
            "webhook.disabled",
            serde_json::json!({ "webhook": summary, "reason": reason }),
        )],
    };
    if webhook_store::disable(&app.store, &webhook.id, reason, &journal).await? {
        app.events.publish(BusEvent::Log(Box::new(log.to_row())));
        app.workers.wake.dispatcher.notify_one();
        // A real alert (deduplicated, acknowledgeable), fired by the domain's rules.
        crate::domain::alerts::on_webhook_disabled(
            app,
            &webhook.project_id,
            &webhook.id,
            &webhook.url,
            reason,
        )
        .await;
    }
    Ok(())
}

fn json_webhook(webhook: &WebhookRow) -> serde_json::Value {
    serde_json::json!({ "id": webhook.id, "url": webhook.url })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_twenty_percent() {
        for _ in 0..1000 {
            let d = jittered(Duration::from_secs(10));
            assert!(d >= Duration::from_secs(8) && d <= Duration::from_secs(12));
        }
    }
}
