//! The durable job queue. Claims take rows with one conditional UPDATE (PostgreSQL
//! re-checks the lease on rows another replica took meanwhile), so several replicas share
//! the work without taking the same row; SQLite serialises claims through its single
//! writer connection. Claimed jobs carry
//! a lease: a worker that dies leaves its jobs to be claimed again when the lease expires.

use chrono::NaiveDateTime;
use diesel::{BoolExpressionMethods, ExpressionMethods, QueryDsl, SelectableHelper};
use diesel_async::RunQueryDsl;

use super::schema::jobs;
use super::{Store, StoreResult, now};

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
    let free = || {
        jobs::lease_expires_at
            .is_null()
            .or(jobs::lease_expires_at.lt(at))
    };
    super::with_write!(store, |conn| {
        // Candidates are read without locks, and only the chosen ones (at most each key's
        // room) are taken, by one UPDATE that re-checks the lease: a replica that took a
        // row meanwhile makes this UPDATE skip it (PostgreSQL re-evaluates the condition
        // on the committed row), so no job is taken twice. Locking every candidate
        // (`FOR UPDATE` on 256 rows to take the 8 an endpoint has room for) wrote a tuple
        // lock per row per claim round and was the pipeline's largest cost.
        let candidates: Vec<(String, Option<String>)> = jobs::table
            .filter(jobs::kind.eq(kind))
            .filter(jobs::run_at.le(at))
            .filter(free())
            .order(jobs::run_at.asc())
            .limit(limit)
            .select((jobs::id, jobs::queue_key))
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
        let mut claimed: Vec<JobRow> =
            diesel::update(jobs::table.filter(jobs::id.eq_any(&ids)).filter(free()))
                .set((
                    jobs::lease_owner.eq(owner),
                    jobs::lease_expires_at.eq(lease_until),
                    jobs::attempts.eq(jobs::attempts + 1),
                ))
                .returning(JobRow::as_returning())
                .get_results(&mut *conn)
                .await?;
        claimed.sort_by_key(|job| job.run_at);
        Ok(claimed)
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

/// Due jobs by kind: how many wait and since when the oldest is due (the `/metrics` gauges).
pub async fn queue_depth(
    store: &Store,
    now: NaiveDateTime,
) -> StoreResult<Vec<(String, i64, Option<NaiveDateTime>)>> {
    use super::with_read;
    with_read!(store, |conn| {
        Ok(jobs::table
            .filter(jobs::run_at.le(now))
            .group_by(jobs::kind)
            .select((
                jobs::kind,
                diesel::dsl::count_star(),
                diesel::dsl::min(jobs::run_at),
            ))
            .load(conn)
            .await?)
    })
}
