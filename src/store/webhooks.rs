//! Webhook endpoints, the outbox dispatch that plans their deliveries, deliveries and
//! attempts, and incoming-webhook secrets.

use chrono::NaiveDateTime;
use diesel::dsl::{count_star, max, sql};
use diesel::sql_types::BigInt;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::events::EventRow;
use super::jobs::JobRow;
use super::schema::{
    deliveries, delivery_attempts, events, incoming_webhook_secrets, jobs, webhooks,
};
use super::{
    Journal, Page, PageRequest, ROWS_PER_INSERT, Store, StoreError, StoreResult, filtered_page,
    journaled, with_read, with_write,
};

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = webhooks)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct WebhookRow {
    pub id: String,
    pub project_id: String,
    pub url: String,
    pub description: Option<String>,
    /// JSON array of patterns (`integration.created`, `integration.*`, `*`).
    pub event_types: String,
    /// JSON `{integrationIds, categories}`.
    pub filter: String,
    pub headers: String,
    pub rate_limit_per_second: Option<i32>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub key_id: String,
    /// The `whsec_` secret, sealed by the vault.
    pub secret: Vec<u8>,
    pub previous_key_id: Option<String>,
    pub previous_secret: Option<Vec<u8>>,
    pub previous_expires_at: Option<NaiveDateTime>,
    pub consecutive_failures: i32,
    pub failing_since: Option<NaiveDateTime>,
    pub last_delivery_at: Option<NaiveDateTime>,
    pub created_by: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = deliveries)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct DeliveryRow {
    pub id: String,
    pub webhook_id: String,
    pub event_id: String,
    pub project_id: String,
    pub event_type: String,
    pub status: String,
    pub attempt_count: i32,
    pub next_attempt_at: Option<NaiveDateTime>,
    pub last_status_code: Option<i32>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(
    Debug,
    Clone,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = delivery_attempts)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct AttemptRow {
    pub id: String,
    pub delivery_id: String,
    pub webhook_id: String,
    pub status_code: Option<i32>,
    pub latency_ms: i32,
    pub response_snippet: Option<String>,
    pub error: Option<String>,
    pub at: NaiveDateTime,
}

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = incoming_webhook_secrets)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct IncomingSecretRow {
    pub integration_id: String,
    pub scheme: String,
    pub header: Option<String>,
    pub tolerance_seconds: i32,
    pub key_id: String,
    pub secret: Vec<u8>,
    pub updated_at: NaiveDateTime,
}

pub async fn insert(store: &Store, row: &WebhookRow, journal: &Journal) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(webhooks::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

/// Replaces a webhook row; `false` when it is gone.
pub async fn update(store: &Store, row: &WebhookRow, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(webhooks::table.find(&row.id))
            .set(row)
            .execute(&mut *conn)
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

pub async fn delete(store: &Store, id: &str, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        // Pending delivery jobs of this endpoint go too (their payload names the delivery).
        let pending: Vec<String> = deliveries::table
            .filter(deliveries::webhook_id.eq(id))
            .filter(deliveries::status.eq("PENDING"))
            .select(deliveries::id)
            .load(&mut *conn)
            .await?;
        let payloads: Vec<String> = pending.iter().map(|d| job_payload(d)).collect();
        diesel::delete(jobs::table.filter(jobs::payload.eq_any(&payloads)))
            .execute(&mut *conn)
            .await?;
        let removed = diesel::delete(webhooks::table.find(id))
            .execute(&mut *conn)
            .await?;
        if removed == 0 {
            return Ok(false);
        }
        true
    })
}

/// The payload of the delivery job for `delivery_id`.
pub fn job_payload(delivery_id: &str) -> String {
    serde_json::json!({ "deliveryId": delivery_id }).to_string()
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<WebhookRow>> {
    with_read!(store, |conn| {
        Ok(webhooks::table
            .find(id)
            .select(WebhookRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn page(
    store: &Store,
    project_ids: Option<&[String]>,
    request: &PageRequest,
) -> StoreResult<Page<WebhookRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = webhooks::table.into_boxed();
            if let Some(ids) = project_ids {
                q = q.filter(webhooks::project_id.eq_any(ids));
            }
            q
        }};
    }
    filtered_page!(store, request, webhooks::id, WebhookRow, filtered!())
}

pub async fn deliveries_page(
    store: &Store,
    webhook_id: &str,
    status: Option<&str>,
    request: &PageRequest,
) -> StoreResult<Page<DeliveryRow>> {
    macro_rules! filtered {
        () => {{
            let mut q = deliveries::table
                .filter(deliveries::webhook_id.eq(webhook_id))
                .into_boxed();
            if let Some(status) = status {
                q = q.filter(deliveries::status.eq(status));
            }
            q
        }};
    }
    filtered_page!(store, request, deliveries::id, DeliveryRow, filtered!())
}

pub async fn get_delivery(store: &Store, id: &str) -> StoreResult<Option<DeliveryRow>> {
    with_read!(store, |conn| {
        Ok(deliveries::table
            .find(id)
            .select(DeliveryRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Attempts of a delivery, oldest first.
pub async fn attempts(store: &Store, delivery_id: &str) -> StoreResult<Vec<AttemptRow>> {
    with_read!(store, |conn| {
        Ok(delivery_attempts::table
            .filter(delivery_attempts::delivery_id.eq(delivery_id))
            .order(delivery_attempts::id.asc())
            .limit(100)
            .select(AttemptRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Ids per statement when a batch is read or written by id (well under both backends'
/// bound-parameter limits).
const IDS_PER_STATEMENT: usize = 500;

/// Inserts planned deliveries and their jobs (a macro: each backend's connection type
/// is concrete where it expands). Row by row: diesel-async has no multi-row INSERT for
/// SQLite, and the rows share their transaction either way.
macro_rules! insert_planned {
    ($conn:expr, $planned:expr) => {{
        for (delivery, job) in $planned.iter() {
            diesel::insert_into(deliveries::table)
                .values(delivery)
                .execute(&mut *$conn)
                .await?;
            diesel::insert_into(jobs::table)
                .values(job)
                .execute(&mut *$conn)
                .await?;
        }
    }};
}

/// Like `claiming!` (`$lock!` adds `FOR UPDATE SKIP LOCKED` on PostgreSQL), with the
/// pipeline's batch writes: `$insert_rows!(conn, table, rows)` is one multi-row INSERT per
/// chunk on PostgreSQL and a statement per row on SQLite (diesel's multi-row INSERT does
/// not build for SQLite through diesel-async; SQLite is in-process and caches the
/// statement), and `$update_deliveries!(conn, records)` applies finished attempts to
/// their deliveries in one `UPDATE … FROM unnest(…)` on PostgreSQL, row by row on SQLite.
/// A round trip per row was most of what a delivery cost PostgreSQL.
macro_rules! with_batch_writes {
    ($store:expr, |$conn:ident, $lock:ident, $insert_rows:ident, $update_deliveries:ident| $body:block) => {{
        match $store.pools() {
            super::Pools::Postgres(pool) => {
                let mut guard = pool.get().await.map_err(StoreError::pool)?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                #[allow(unused_macros)]
                macro_rules! $lock {
                    ($q:expr) => {
                        $q.for_update().skip_locked()
                    };
                }
                #[allow(unused_macros)]
                macro_rules! $insert_rows {
                    ($c:expr, $table:expr, $rows:expr) => {
                        for chunk in $rows.chunks(ROWS_PER_INSERT) {
                            diesel::insert_into($table)
                                .values(chunk)
                                .execute(&mut *$c)
                                .await?;
                        }
                    };
                }
                #[allow(unused_macros)]
                macro_rules! $update_deliveries {
                    ($c:expr, $records:expr) => {
                        update_deliveries_pg(&mut *$c, $records).await?
                    };
                }
                $body
            }
            super::Pools::Sqlite(sqlite) => {
                let mut guard = sqlite.write().get().await.map_err(StoreError::pool)?;
                let $conn: &mut super::SqliteConn = &mut guard;
                #[allow(unused_macros)]
                macro_rules! $lock {
                    ($q:expr) => {
                        $q
                    };
                }
                #[allow(unused_macros)]
                macro_rules! $insert_rows {
                    ($c:expr, $table:expr, $rows:expr) => {
                        for row in $rows.iter() {
                            diesel::insert_into($table)
                                .values(row)
                                .execute(&mut *$c)
                                .await?;
                        }
                    };
                }
                #[allow(unused_macros)]
                macro_rules! $update_deliveries {
                    ($c:expr, $records:expr) => {
                        for record in $records.iter() {
                            let attempt = &record.attempt;
                            diesel::update(deliveries::table.find(&attempt.delivery_id))
                                .set((
                                    deliveries::status.eq(record.delivery_status),
                                    deliveries::attempt_count.eq(deliveries::attempt_count + 1),
                                    deliveries::next_attempt_at.eq(record.next_attempt_at),
                                    deliveries::last_status_code.eq(attempt.status_code),
                                    deliveries::updated_at.eq(attempt.at),
                                ))
                                .execute(&mut *$c)
                                .await?;
                        }
                    };
                }
                $body
            }
        }
    }};
}

/// Finished attempts applied to their deliveries in one statement (PostgreSQL).
async fn update_deliveries_pg(
    conn: &mut diesel_async::AsyncPgConnection,
    records: &[AttemptRecord],
) -> StoreResult<()> {
    use diesel::sql_types::{Array, Integer, Nullable, Text, Timestamp};
    let ids: Vec<&str> = records
        .iter()
        .map(|r| r.attempt.delivery_id.as_str())
        .collect();
    let statuses: Vec<&str> = records.iter().map(|r| r.delivery_status).collect();
    let next: Vec<Option<NaiveDateTime>> = records.iter().map(|r| r.next_attempt_at).collect();
    let codes: Vec<Option<i32>> = records.iter().map(|r| r.attempt.status_code).collect();
    let at: Vec<NaiveDateTime> = records.iter().map(|r| r.attempt.at).collect();
    diesel::sql_query(
        "UPDATE deliveries AS d SET status = v.status, attempt_count = d.attempt_count + 1, \
         next_attempt_at = v.next_attempt_at, last_status_code = v.last_status_code, \
         updated_at = v.updated_at \
         FROM unnest($1::text[], $2::text[], $3::timestamp[], $4::int4[], $5::timestamp[]) \
         AS v(id, status, next_attempt_at, last_status_code, updated_at) WHERE d.id = v.id",
    )
    .bind::<Array<Text>, _>(ids)
    .bind::<Array<Text>, _>(statuses)
    .bind::<Array<Nullable<Timestamp>>, _>(next)
    .bind::<Array<Nullable<Integer>>, _>(codes)
    .bind::<Array<Timestamp>, _>(at)
    .execute(conn)
    .await?;
    Ok(())
}

/// What a claimed batch of deliveries needs, by delivery id: each delivery, its endpoint
/// and its event, in one read per 500 deliveries.
pub async fn delivery_contexts(
    store: &Store,
    delivery_ids: &[String],
) -> StoreResult<std::collections::HashMap<String, DeliveryContext>> {
    let mut out = std::collections::HashMap::with_capacity(delivery_ids.len());
    for chunk in delivery_ids.chunks(IDS_PER_STATEMENT) {
        let rows: Vec<(DeliveryRow, WebhookRow, EventRow)> = with_read!(store, |conn| {
            Ok::<_, StoreError>(
                deliveries::table
                    .inner_join(webhooks::table)
                    .inner_join(events::table)
                    .filter(deliveries::id.eq_any(chunk))
                    .select((
                        DeliveryRow::as_select(),
                        WebhookRow::as_select(),
                        EventRow::as_select(),
                    ))
                    .load(conn)
                    .await?,
            )
        })?;
        out.extend(rows.into_iter().map(|row| (row.0.id.clone(), row)));
    }
    Ok(out)
}

/// Stores new deliveries with their jobs (and their events, when new, such as a test
/// event) and the journal (who asked) in one transaction.
pub async fn insert_deliveries(
    store: &Store,
    new_events: &[EventRow],
    planned: &[(DeliveryRow, JobRow)],
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        // Deliveries reference their event: new events go first.
        for event in new_events {
            diesel::insert_into(events::table)
                .values(event)
                .execute(&mut *conn)
                .await?;
        }
        insert_planned!(conn, planned);
    })
}

/// Event ids of a webhook's deliveries in a status set (for replay of failures).
pub async fn event_ids_with_status(
    store: &Store,
    webhook_id: &str,
    statuses: &[&str],
) -> StoreResult<Vec<String>> {
    with_read!(store, |conn| {
        Ok(deliveries::table
            .filter(deliveries::webhook_id.eq(webhook_id))
            .filter(deliveries::status.eq_any(statuses))
            .select(deliveries::event_id)
            .load(conn)
            .await?)
    })
}

/// The result of one delivery attempt, written in one transaction.
pub struct AttemptRecord {
    pub attempt: AttemptRow,
    pub delivery_status: &'static str,
    pub next_attempt_at: Option<NaiveDateTime>,
    /// The job: rescheduled to `next_attempt_at`, or deleted when the delivery is final.
    pub job_id: String,
    pub job_error: Option<String>,
    pub success: bool,
}

/// What a batch of attempts did to one endpoint, in the order they finished.
#[derive(Default)]
struct EndpointOutcome {
    /// A success in the batch resets the failure count to the failures after it.
    reset: bool,
    failures: i32,
    first_failure: Option<NaiveDateTime>,
    last_at: Option<NaiveDateTime>,
}

/// Stores finished attempts in one transaction: the attempts, their
/// deliveries and jobs moved on, and each endpoint's failure counters updated once with
/// SQL increments (concurrent batches and replicas lose no count; endpoints in id order,
/// so two replicas' batches cannot deadlock). Returns the endpoints as they are after.
pub async fn record_attempts(
    store: &Store,
    records: &[AttemptRecord],
) -> StoreResult<std::collections::HashMap<String, WebhookRow>> {
    let mut outcomes: std::collections::BTreeMap<&str, EndpointOutcome> = Default::default();
    for record in records {
        let outcome = outcomes
            .entry(record.attempt.webhook_id.as_str())
            .or_default();
        if record.success {
            outcome.reset = true;
            outcome.failures = 0;
            outcome.first_failure = None;
        } else {
            outcome.failures += 1;
            outcome.first_failure.get_or_insert(record.attempt.at);
        }
        outcome.last_at = outcome.last_at.max(Some(record.attempt.at));
    }
    let finished_jobs: Vec<&str> = records
        .iter()
        .filter(|r| r.next_attempt_at.is_none())
        .map(|r| r.job_id.as_str())
        .collect();
    let attempts: Vec<AttemptRow> = records.iter().map(|r| r.attempt.clone()).collect();
    with_batch_writes!(store, |conn, lock, insert_rows, update_deliveries| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            insert_rows!(conn, delivery_attempts::table, attempts);
            update_deliveries!(conn, records);
            for record in records {
                if let Some(run_at) = record.next_attempt_at {
                    diesel::update(jobs::table.find(&record.job_id))
                        .set((
                            jobs::run_at.eq(run_at),
                            jobs::lease_owner.eq(None::<String>),
                            jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                            jobs::last_error.eq(&record.job_error),
                        ))
                        .execute(&mut *conn)
                        .await?;
                }
            }
            for chunk in finished_jobs.chunks(IDS_PER_STATEMENT) {
                diesel::delete(jobs::table.filter(jobs::id.eq_any(chunk)))
                    .execute(&mut *conn)
                    .await?;
            }
            for (id, outcome) in &outcomes {
                let endpoint = webhooks::table.find(*id);
                if outcome.reset {
                    diesel::update(endpoint)
                        .set((
                            webhooks::consecutive_failures.eq(outcome.failures),
                            webhooks::failing_since.eq(outcome.first_failure),
                            webhooks::last_delivery_at.eq(outcome.last_at),
                        ))
                        .execute(&mut *conn)
                        .await?;
                } else {
                    diesel::update(endpoint)
                        .set((
                            webhooks::consecutive_failures
                                .eq(webhooks::consecutive_failures + outcome.failures),
                            webhooks::last_delivery_at.eq(outcome.last_at),
                        ))
                        .execute(&mut *conn)
                        .await?;
                    diesel::update(endpoint.filter(webhooks::failing_since.is_null()))
                        .set(webhooks::failing_since.eq(outcome.first_failure))
                        .execute(&mut *conn)
                        .await?;
                }
            }
            let ids: Vec<&str> = outcomes.keys().copied().collect();
            let after: Vec<WebhookRow> = webhooks::table
                .filter(webhooks::id.eq_any(&ids))
                .select(WebhookRow::as_select())
                .load(&mut *conn)
                .await?;
            Ok(after.into_iter().map(|w| (w.id.clone(), w)).collect())
        })
        .await
    })
}

/// Disables an active endpoint, with the journal of it; `false` when it was not active.
pub async fn disable(
    store: &Store,
    id: &str,
    reason: &str,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(
            webhooks::table
                .find(id)
                .filter(webhooks::status.eq("ACTIVE")),
        )
        .set((
            webhooks::status.eq("DISABLED"),
            webhooks::disabled_reason.eq(reason),
        ))
        .execute(&mut *conn)
        .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

/// Deletes a job whose delivery is gone.
pub async fn delete_job(store: &Store, job_id: &str) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::delete(jobs::table.find(job_id))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Removes a job whose delivery no longer needs it (endpoint disabled or gone).
pub async fn finish_without_attempt(
    store: &Store,
    job_id: &str,
    delivery_id: &str,
    status: &str,
) -> StoreResult<()> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::delete(jobs::table.find(job_id))
                .execute(&mut *conn)
                .await?;
            diesel::update(deliveries::table.find(delivery_id))
                .set((
                    deliveries::status.eq(status),
                    deliveries::next_attempt_at.eq(None::<NaiveDateTime>),
                ))
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
        .await
    })
}

/// Delivery statistics of one endpoint since a moment.
#[derive(Debug, Clone, Default)]
pub struct AttemptTotals {
    pub attempts: i64,
    pub successes: i64,
    pub p95_latency_ms: Option<i32>,
    pub last_at: Option<NaiveDateTime>,
}

const SUCCESSFUL: &str = "CAST(COALESCE(SUM(CASE WHEN status_code >= 200 AND status_code < 300 THEN 1 ELSE 0 END), 0) AS BIGINT)";

/// Plans the deliveries of a batch of events among the endpoints of their projects.
pub type DeliveryPlan = dyn Fn(&[EventRow], &[WebhookRow]) -> Vec<(DeliveryRow, JobRow)> + Sync;

/// Jobs a dispatch stores already leased to this process's delivery worker, which gets
/// them handed over after the commit: the claim round trip (a read and a committed
/// UPDATE) is then off the path from an event to its first delivery attempt.
pub struct Handover<'a> {
    pub owner: &'a str,
    pub lease_until: NaiveDateTime,
    /// How many more jobs of an endpoint the worker can take now.
    pub room: &'a super::jobs::Room<'a>,
    /// At most this many jobs per dispatch (the worker's free delivery slots).
    pub limit: usize,
}

/// What one dispatch did.
pub struct Dispatched {
    /// The events dispatched, in order.
    pub events: Vec<EventRow>,
    /// Deliveries planned.
    pub planned: usize,
    /// Jobs stored leased for the [`Handover`]'s owner, due now, with what their
    /// attempts need (as [`delivery_contexts`] reads it).
    pub handed_over: Vec<(JobRow, DeliveryContext)>,
}

/// A delivery with its endpoint and its event: what an attempt needs.
pub type DeliveryContext = (DeliveryRow, WebhookRow, EventRow);

/// Dispatches up to `limit` new events: plans their deliveries against the webhooks of
/// their projects (`plan` returns a delivery and its job per matching endpoint), stores
/// them and marks the events dispatched, in one transaction. Jobs due now are stored
/// leased to the `handover`'s owner, as far as its room goes.
pub async fn dispatch_events(
    store: &Store,
    limit: i64,
    plan: &DeliveryPlan,
    handover: Option<&Handover<'_>>,
) -> StoreResult<Dispatched> {
    with_batch_writes!(store, |conn, lock, insert_rows, update_deliveries| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let claimed: Vec<EventRow> = lock!(
                events::table
                    .filter(events::dispatched.eq(false))
                    .order(events::id.asc())
                    .limit(limit)
                    .select(EventRow::as_select())
            )
            .load(&mut *conn)
            .await?;
            if claimed.is_empty() {
                return Ok(Dispatched {
                    events: claimed,
                    planned: 0,
                    handed_over: Vec::new(),
                });
            }
            let mut projects: Vec<&str> = claimed.iter().map(|e| e.project_id.as_str()).collect();
            projects.sort_unstable();
            projects.dedup();
            let endpoints: Vec<WebhookRow> = webhooks::table
                .filter(webhooks::project_id.eq_any(&projects))
                .filter(webhooks::status.ne("DISABLED"))
                .select(WebhookRow::as_select())
                .load(&mut *conn)
                .await?;
            let mut planned = plan(&claimed, &endpoints);
            let handed_over = match handover {
                Some(handover) => lease_due(&mut planned, handover)
                    .into_iter()
                    .filter_map(|(job, delivery)| {
                        let endpoint = endpoints.iter().find(|w| w.id == delivery.webhook_id)?;
                        let event = claimed.iter().find(|e| e.id == delivery.event_id)?;
                        Some((job, (delivery, endpoint.clone(), event.clone())))
                    })
                    .collect(),
                None => Vec::new(),
            };
            let (new_deliveries, new_jobs): (Vec<DeliveryRow>, Vec<JobRow>) =
                planned.into_iter().unzip();
            insert_rows!(conn, deliveries::table, new_deliveries);
            insert_rows!(conn, jobs::table, new_jobs);
            let planned = new_deliveries.len();
            let ids: Vec<&str> = claimed.iter().map(|e| e.id.as_str()).collect();
            diesel::update(events::table.filter(events::id.eq_any(&ids)))
                .set(events::dispatched.eq(true))
                .execute(&mut *conn)
                .await?;
            Ok(Dispatched {
                events: claimed,
                planned,
                handed_over,
            })
        })
        .await
    })
}

/// Leases the due jobs among `planned` to the handover's owner, at most its room per
/// endpoint and its limit in all (as a claim would: one attempt counted); the leased
/// ones with their deliveries.
fn lease_due(
    planned: &mut [(DeliveryRow, JobRow)],
    handover: &Handover<'_>,
) -> Vec<(JobRow, DeliveryRow)> {
    let at = super::now();
    let mut taken: std::collections::HashMap<String, usize> = Default::default();
    let mut leased = Vec::new();
    for (delivery, job) in planned.iter_mut() {
        if leased.len() >= handover.limit {
            break;
        }
        if job.run_at > at {
            continue;
        }
        if let Some(key) = job.queue_key.as_deref() {
            let room = (handover.room)(key);
            let count = taken.entry(key.to_owned()).or_default();
            if *count >= room {
                continue;
            }
            *count += 1;
        }
        job.lease_owner = Some(handover.owner.to_owned());
        job.lease_expires_at = Some(handover.lease_until);
        job.attempts += 1;
        leased.push((job.clone(), delivery.clone()));
    }
    leased
}

pub async fn attempt_totals(
    store: &Store,
    webhook_id: &str,
    since: NaiveDateTime,
) -> StoreResult<AttemptTotals> {
    with_read!(store, |conn| {
        let (attempts, successes, last_at): (i64, i64, Option<NaiveDateTime>) =
            delivery_attempts::table
                .filter(delivery_attempts::webhook_id.eq(webhook_id))
                .filter(delivery_attempts::at.ge(since))
                .select((
                    count_star(),
                    sql::<BigInt>(SUCCESSFUL),
                    max(delivery_attempts::at),
                ))
                .get_result(conn)
                .await?;
        let p95_latency_ms = if attempts > 0 {
            delivery_attempts::table
                .filter(delivery_attempts::webhook_id.eq(webhook_id))
                .filter(delivery_attempts::at.ge(since))
                .order(delivery_attempts::latency_ms.asc())
                .offset(((attempts * 95 + 99) / 100).max(1) - 1)
                .select(delivery_attempts::latency_ms)
                .first::<i32>(conn)
                .await
                .optional()?
        } else {
            None
        };
        Ok(AttemptTotals {
            attempts,
            successes,
            p95_latency_ms,
            last_at,
        })
    })
}

/// Deletes attempts older than `older_than`.
pub async fn prune_attempts(store: &Store, older_than: NaiveDateTime) -> StoreResult<usize> {
    with_write!(store, |conn| {
        Ok(
            diesel::delete(delivery_attempts::table.filter(delivery_attempts::at.lt(older_than)))
                .execute(conn)
                .await?,
        )
    })
}

pub async fn set_incoming_secret(
    store: &Store,
    row: &IncomingSecretRow,
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        let existing = diesel::update(incoming_webhook_secrets::table.find(&row.integration_id))
            .set(row)
            .execute(&mut *conn)
            .await?;
        if existing == 0 {
            diesel::insert_into(incoming_webhook_secrets::table)
                .values(row)
                .execute(&mut *conn)
                .await?;
        }
    })
}

pub async fn incoming_secret(
    store: &Store,
    integration_id: &str,
) -> StoreResult<Option<IncomingSecretRow>> {
    with_read!(store, |conn| {
        Ok(incoming_webhook_secrets::table
            .find(integration_id)
            .select(IncomingSecretRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Webhook and incoming-webhook secrets sealed under a key other than `target` (rotation).
pub async fn secrets_not_on(
    store: &Store,
    target: &str,
) -> StoreResult<(Vec<WebhookRow>, Vec<IncomingSecretRow>)> {
    use diesel::BoolExpressionMethods;
    with_read!(store, |conn| {
        let hooks = webhooks::table
            .filter(
                webhooks::key_id.ne(target).or(webhooks::previous_key_id
                    .is_not_null()
                    .and(webhooks::previous_key_id.ne(target))),
            )
            .select(WebhookRow::as_select())
            .load(&mut *conn)
            .await?;
        let incoming = incoming_webhook_secrets::table
            .filter(incoming_webhook_secrets::key_id.ne(target))
            .select(IncomingSecretRow::as_select())
            .load(&mut *conn)
            .await?;
        Ok((hooks, incoming))
    })
}

/// Stores re-sealed webhook secrets if the row still holds what was re-sealed (a secret
/// rotated meanwhile is left alone; it is already on the new key).
pub async fn reseal_webhook(
    store: &Store,
    before: &WebhookRow,
    after: &WebhookRow,
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        let changed = diesel::update(
            webhooks::table
                .find(&before.id)
                .filter(webhooks::key_id.eq(&before.key_id))
                .filter(webhooks::secret.eq(&before.secret)),
        )
        .set((
            webhooks::key_id.eq(&after.key_id),
            webhooks::secret.eq(&after.secret),
            webhooks::previous_key_id.eq(&after.previous_key_id),
            webhooks::previous_secret.eq(&after.previous_secret),
        ))
        .execute(conn)
        .await?;
        Ok(changed == 1)
    })
}

/// Stores a re-sealed incoming-webhook secret if it is still the one re-sealed.
pub async fn reseal_incoming(
    store: &Store,
    before: &IncomingSecretRow,
    key_id: &str,
    secret: &[u8],
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        let changed = diesel::update(
            incoming_webhook_secrets::table
                .find(&before.integration_id)
                .filter(incoming_webhook_secrets::key_id.eq(&before.key_id))
                .filter(incoming_webhook_secrets::secret.eq(&before.secret)),
        )
        .set((
            incoming_webhook_secrets::key_id.eq(key_id),
            incoming_webhook_secrets::secret.eq(secret),
        ))
        .execute(conn)
        .await?;
        Ok(changed == 1)
    })
}
