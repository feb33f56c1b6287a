//! The durable job queue and the outbox dispatch: the one place with backend-specific
//! claiming. PostgreSQL claims rows with `FOR UPDATE SKIP LOCKED`, so several replicas
//! share the work without taking the same row; SQLite serialises claims through its
//! single writer connection. Claimed jobs carry a lease: a worker that dies leaves its
//! jobs to be claimed again when the lease expires.

use chrono::NaiveDateTime;
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::events::EventRow;
use super::schema::{deliveries, events, jobs, webhooks};
use super::webhooks::{DeliveryRow, WebhookRow};
use super::{Pools, Store, StoreError, StoreResult, now};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = jobs)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct JobRow {
    pub id: String,
    /// What to do (`webhook.deliver`, …); names never change once shipped.
    pub kind: String,
    pub payload: String,
    /// Jobs with one key share a concurrency limit (deliveries: the endpoint).
    pub queue_key: Option<String>,
    pub run_at: NaiveDateTime,
    pub attempts: i32,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
}

/// Runs `$body` on a write connection; `$lock` is applied to the claiming SELECT
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, nothing on SQLite).
macro_rules! claiming {
    ($store:expr, |$conn:ident, $lock:ident| $body:block) => {{
        match $store.pools() {
            Pools::Postgres(pool) => {
                let mut guard = pool.get().await.map_err(StoreError::pool)?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                macro_rules! $lock {
                    ($q:expr) => {
                        $q.for_update().skip_locked()
                    };
                }
                $body
            }
            Pools::Sqlite(sqlite) => {
                let mut guard = sqlite.write().get().await.map_err(StoreError::pool)?;
                let $conn: &mut super::SqliteConn = &mut guard;
                macro_rules! $lock {
                    ($q:expr) => {
                        $q
                    };
                }
                $body
            }
        }
    }};
}

/// How many more jobs of a queue key this worker can take now.
pub type Room<'a> = dyn Fn(&str) -> usize + Sync + 'a;

/// Claims up to `limit` due jobs of `kind` for `owner` until `lease_until`, at most
/// `room(key)` of each queue key (so one saturated endpoint's backlog is left in the
/// store for later, not claimed and handed back).
pub async fn claim(
    store: &Store,
    kind: &str,
    owner: &str,
    lease_until: NaiveDateTime,
    limit: i64,
    room: &Room<'_>,
) -> StoreResult<Vec<JobRow>> {
    let at = now();
    claiming!(store, |conn, lock| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let candidates: Vec<(String, Option<String>)> = lock!(
                jobs::table
                    .filter(jobs::kind.eq(kind))
                    .filter(jobs::run_at.le(at))
                    .filter(
                        jobs::lease_expires_at
                            .is_null()
                            .or(jobs::lease_expires_at.lt(at)),
                    )
                    .order(jobs::run_at.asc())
                    .limit(limit)
                    .select((jobs::id, jobs::queue_key))
            )
            .load(&mut *conn)
            .await?;
            let mut taken: std::collections::HashMap<String, usize> = Default::default();
            let ids: Vec<String> = candidates
                .into_iter()
                .filter(|(_, key)| match key {
                    None => true,
                    Some(key) => {
                        let count = taken.entry(key.clone()).or_default();
                        let fits = *count < room(key);
                        *count += usize::from(fits);
                        fits
                    }
                })
                .map(|(id, _)| id)
                .collect();
            if ids.is_empty() {
                return Ok(Vec::new());
            }
            diesel::update(jobs::table.filter(jobs::id.eq_any(&ids)))
                .set((
                    jobs::lease_owner.eq(owner),
                    jobs::lease_expires_at.eq(lease_until),
                    jobs::attempts.eq(jobs::attempts + 1),
                ))
                .execute(&mut *conn)
                .await?;
            Ok(jobs::table
                .filter(jobs::id.eq_any(&ids))
                .order(jobs::run_at.asc())
                .select(JobRow::as_select())
                .load(&mut *conn)
                .await?)
        })
        .await
    })
}

/// Gives a claimed job back to run at `run_at` (no attempt made, e.g. endpoint busy).
pub async fn release(store: &Store, id: &str, run_at: NaiveDateTime) -> StoreResult<()> {
    super::with_write!(store, |conn| {
        diesel::update(jobs::table.find(id))
            .set((
                jobs::run_at.eq(run_at),
                jobs::lease_owner.eq(None::<String>),
                jobs::lease_expires_at.eq(None::<NaiveDateTime>),
                jobs::attempts.eq(jobs::attempts - 1),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Plans the deliveries of a batch of events among the endpoints of their projects.
pub type DeliveryPlan = dyn Fn(&[EventRow], &[WebhookRow]) -> Vec<(DeliveryRow, JobRow)> + Sync;

/// Dispatches up to `limit` new events: plans their deliveries against the webhooks of
/// their projects (`plan` returns a delivery and its job per matching endpoint), stores
/// them and marks the events dispatched, in one transaction. Returns the events.
pub async fn dispatch_events(
    store: &Store,
    limit: i64,
    plan: &DeliveryPlan,
) -> StoreResult<(Vec<EventRow>, usize)> {
    claiming!(store, |conn, lock| {
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
                return Ok((claimed, 0));
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
            let planned = plan(&claimed, &endpoints);
            for (delivery, job) in &planned {
                diesel::insert_into(deliveries::table)
                    .values(delivery)
                    .execute(&mut *conn)
                    .await?;
                diesel::insert_into(jobs::table)
                    .values(job)
                    .execute(&mut *conn)
                    .await?;
            }
            let planned = planned.len();
            let ids: Vec<&str> = claimed.iter().map(|e| e.id.as_str()).collect();
            diesel::update(events::table.filter(events::id.eq_any(&ids)))
                .set(events::dispatched.eq(true))
                .execute(&mut *conn)
                .await?;
            Ok((claimed, planned))
        })
        .await
    })
}

/// The channel replicas use to wake each other's delivery workers.
pub const DELIVERIES_CHANNEL: &str = "patchbay_deliveries";

/// Sends a PostgreSQL notification to every replica (a no-op on SQLite, whose only
/// process signals itself in memory). Payloads are limited to 8000 bytes.
pub async fn notify(store: &Store, channel: &str, payload: &str) -> StoreResult<()> {
    if let Pools::Postgres(pool) = store.pools() {
        let mut conn = pool.get().await.map_err(StoreError::pool)?;
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<diesel::sql_types::Text, _>(channel)
            .bind::<diesel::sql_types::Text, _>(payload)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// How many database sessions listen on `channel` (PostgreSQL: sessions whose last
/// statement was its LISTEN, which is how [`listen`] leaves its connection; 0 on SQLite).
pub async fn listeners(store: &Store, channel: &str) -> StoreResult<i64> {
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        count: i64,
    }
    if let Pools::Postgres(pool) = store.pools() {
        let mut conn = pool.get().await.map_err(StoreError::pool)?;
        let row: Count = diesel::sql_query(
            "SELECT count(*) AS count FROM pg_stat_activity \
             WHERE datname = current_database() AND query LIKE $1",
        )
        .bind::<diesel::sql_types::Text, _>(format!("LISTEN {channel}%"))
        .get_result(&mut *conn)
        .await?;
        return Ok(row.count);
    }
    Ok(0)
}

/// Calls `on(channel, payload)` for every notification on `channels` until `stop`
/// (PostgreSQL LISTEN on a dedicated connection, re-established after a failure; returns
/// at once on SQLite).
pub async fn listen(
    store: Store,
    channels: &[&str],
    on: impl Fn(&str, &str),
    stop: tokio_util::sync::CancellationToken,
) {
    use futures_util::StreamExt;
    let super::DatabaseTarget::Postgres(url) = store.target().clone() else {
        return;
    };
    loop {
        let listened = async {
            let mut conn = super::connect_pg(&url).await?;
            for channel in channels {
                diesel::sql_query(format!("LISTEN {channel}"))
                    .execute(&mut conn)
                    .await?;
            }
            let mut notifications = std::pin::pin!(conn.notifications_stream());
            while let Some(notification) = notifications.next().await {
                let notification = notification?;
                on(&notification.channel, &notification.payload);
            }
            Ok::<(), StoreError>(())
        };
        tokio::select! {
            () = stop.cancelled() => return,
            result = listened => {
                if let Err(err) = result {
                    tracing::warn!(error = %err, "listening for notifications failed; polling meanwhile");
                }
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(std::time::Duration::from_secs(5)) => {}
        }
    }
}
