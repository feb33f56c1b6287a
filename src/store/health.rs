//! Health: each integration's state and check schedule, its transitions, and minute and
//! hour buckets of checks and calls (counts, failures, a latency histogram) that uptime,
//! error rates, percentiles and history are computed from.

use chrono::NaiveDateTime;
use diesel::{
    BoolExpressionMethods, ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper,
};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::events::EventRow;
use super::logs::LogRow;
use super::pg::claiming;
use super::schema::{events, health_buckets, health_states, health_transitions, logs};
use super::{Store, StoreError, StoreResult, with_read, with_write};

#[derive(
    Debug,
    Clone,
    diesel::Queryable,
    diesel::Selectable,
    diesel::Insertable,
    diesel::AsChangeset,
    serde::Serialize,
    serde::Deserialize,
)]
#[diesel(table_name = health_states)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct HealthStateRow {
    pub integration_id: String,
    pub project_id: String,
    pub status: String,
    pub reason: Option<String>,
    pub consecutive_failures: i32,
    pub consecutive_successes: i32,
    pub last_checked_at: Option<NaiveDateTime>,
    pub last_latency_ms: Option<i32>,
    pub last_error: Option<String>,
    pub next_check_at: Option<NaiveDateTime>,
    pub lease_until: Option<NaiveDateTime>,
    pub changed_at: NaiveDateTime,
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
#[diesel(table_name = health_transitions)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TransitionRow {
    pub id: String,
    pub integration_id: String,
    pub project_id: String,
    pub previous: String,
    pub current: String,
    pub reason: String,
    pub at: NaiveDateTime,
}

/// Upper bounds (ms) of the latency histogram's bins; the last bin is open.
pub const LATENCY_BINS_MS: [i64; 15] = [
    10, 25, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000, 30_000,
];

/// One observation for the buckets: a check or a call, its outcome and latency.
#[derive(Debug, Clone, Copy)]
pub struct Observation {
    pub at: NaiveDateTime,
    pub check: bool,
    pub failed: bool,
    pub latency_ms: Option<i64>,
}

/// The sums of buckets over a time range.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BucketTotals {
    pub checks: i64,
    pub check_failures: i64,
    pub calls: i64,
    pub call_failures: i64,
    pub latency_sum: i64,
    pub latency_count: i64,
    pub histogram: [i64; 16],
}

/// One bucket (a point of a history chart).
#[derive(Debug, Clone)]
pub struct Bucket {
    pub start: NaiveDateTime,
    pub totals: BucketTotals,
}

type BucketColumns = (
    String,
    i32,
    NaiveDateTime,
    i32,
    i32,
    i32,
    i32,
    i64,
    i32,
    (i32, i32, i32, i32, i32, i32, i32, i32),
    (i32, i32, i32, i32, i32, i32, i32, i32),
);

fn bin_of(latency_ms: i64) -> usize {
    LATENCY_BINS_MS
        .iter()
        .position(|bound| latency_ms <= *bound)
        .unwrap_or(LATENCY_BINS_MS.len())
}

fn floor_to(at: NaiveDateTime, span_seconds: i64) -> NaiveDateTime {
    let seconds = at.and_utc().timestamp();
    let start = seconds - seconds.rem_euclid(span_seconds);
    chrono::DateTime::from_timestamp(start, 0).map_or(at, |t| t.naive_utc())
}

/// The state rows of these integrations.
pub async fn get_many(store: &Store, ids: &[String]) -> StoreResult<Vec<HealthStateRow>> {
    with_read!(store, |conn| {
        Ok(crate::store::LoadRows::load_rows(
            conn,
            health_states::table
                .filter(health_states::integration_id.eq_any(ids))
                .select(HealthStateRow::as_select()),
        )
        .await?)
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<HealthStateRow>> {
    with_read!(store, |conn| {
        Ok(health_states::table
            .find(id)
            .select(HealthStateRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Creates the state row (UNKNOWN) if missing and sets when the next check is due
/// (`None`: no scheduled checks).
pub async fn schedule(
    store: &Store,
    integration_id: &str,
    project_id: &str,
    next_check_at: Option<NaiveDateTime>,
    now: NaiveDateTime,
) -> StoreResult<()> {
    let fresh = HealthStateRow {
        integration_id: integration_id.to_owned(),
        project_id: project_id.to_owned(),
        status: "UNKNOWN".to_owned(),
        reason: None,
        consecutive_failures: 0,
        consecutive_successes: 0,
        last_checked_at: None,
        last_latency_ms: None,
        last_error: None,
        next_check_at,
        lease_until: None,
        changed_at: now,
    };
    with_write!(store, |conn| {
        diesel::insert_into(health_states::table)
            .values(&fresh)
            .on_conflict(health_states::integration_id)
            .do_update()
            .set(health_states::next_check_at.eq(next_check_at))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Records why a due check was not run and when to look again (the lease is released).
pub async fn postpone(
    store: &Store,
    integration_id: &str,
    reason: &str,
    next_check_at: Option<NaiveDateTime>,
) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::update(health_states::table.find(integration_id))
            .set((
                health_states::reason.eq(reason),
                health_states::next_check_at.eq(next_check_at),
                health_states::lease_until.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Claims up to `limit` due checks until `lease_until` (PostgreSQL: `SKIP LOCKED`, so
/// replicas never take the same integration; SQLite: the single writer).
pub async fn claim_due(
    store: &Store,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
) -> StoreResult<Vec<HealthStateRow>> {
    claiming!(store, |conn, lock| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let due: Vec<HealthStateRow> = lock!(
                health_states::table
                    .filter(health_states::next_check_at.le(now))
                    .filter(
                        health_states::lease_until
                            .is_null()
                            .or(health_states::lease_until.lt(now)),
                    )
                    .order(health_states::next_check_at.asc())
                    .limit(limit)
                    .select(HealthStateRow::as_select())
            )
            .load(&mut *conn)
            .await?;
            if due.is_empty() {
                return Ok(due);
            }
            let ids: Vec<&str> = due.iter().map(|r| r.integration_id.as_str()).collect();
            diesel::update(health_states::table.filter(health_states::integration_id.eq_any(&ids)))
                .set(health_states::lease_until.eq(lease_until))
                .execute(&mut *conn)
                .await?;
            Ok(due)
        })
        .await
    })
}

/// What one observation changes, written in one transaction: the state (compared with
/// the version read, so concurrent observations never overwrite each other silently),
/// the transition with its log entries and outbox events, and the buckets.
pub struct HealthWrite<'a> {
    pub state: &'a HealthStateRow,
    /// The state as read; the write lands only if it is unchanged (else `Ok(false)`).
    pub expected: &'a HealthStateRow,
    pub transition: Option<&'a TransitionRow>,
    pub logs: &'a [LogRow],
    pub events: &'a [EventRow],
    pub observation: Option<Observation>,
}

pub async fn write(store: &Store, write: &HealthWrite<'_>) -> StoreResult<bool> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let expected = write.expected;
            let changed = diesel::update(
                health_states::table
                    .find(&expected.integration_id)
                    .filter(health_states::changed_at.eq(expected.changed_at))
                    .filter(health_states::consecutive_failures.eq(expected.consecutive_failures))
                    .filter(health_states::consecutive_successes.eq(expected.consecutive_successes))
                    .filter(health_states::status.eq(&expected.status)),
            )
            .set(write.state)
            .execute(&mut *conn)
            .await?;
            if changed == 0 {
                return Ok(false);
            }
            if let Some(transition) = write.transition {
                diesel::insert_into(health_transitions::table)
                    .values(transition)
                    .execute(&mut *conn)
                    .await?;
            }
            for log in write.logs {
                diesel::insert_into(logs::table)
                    .values(log)
                    .execute(&mut *conn)
                    .await?;
            }
            for event in write.events {
                diesel::insert_into(events::table)
                    .values(event)
                    .execute(&mut *conn)
                    .await?;
            }
            if let Some(observation) = write.observation {
                add_to_buckets!(conn, &expected.integration_id, observation);
            }
            Ok(true)
        })
        .await
    })
}

/// Adds an observation to its minute and hour buckets (upserts that add, so concurrent
/// writers on several replicas never lose a count).
macro_rules! add_to_buckets {
    ($conn:ident, $integration_id:expr, $observation:expr) => {{
        use diesel::upsert::excluded;
        use health_buckets::dsl as b;
        let observation: Observation = $observation;
        let mut bins = [0i32; 16];
        if let Some(latency) = observation.latency_ms {
            bins[bin_of(latency)] = 1;
        }
        for span in [60i64, 3600] {
            let row = (
                b::integration_id.eq($integration_id),
                b::span_seconds.eq(span as i32),
                b::bucket_start.eq(floor_to(observation.at, span)),
                b::checks.eq(i32::from(observation.check)),
                b::check_failures.eq(i32::from(observation.check && observation.failed)),
                b::calls.eq(i32::from(!observation.check)),
                b::call_failures.eq(i32::from(!observation.check && observation.failed)),
                b::latency_sum.eq(observation.latency_ms.unwrap_or(0)),
                b::latency_count.eq(i32::from(observation.latency_ms.is_some())),
                (
                    b::h0.eq(bins[0]),
                    b::h1.eq(bins[1]),
                    b::h2.eq(bins[2]),
                    b::h3.eq(bins[3]),
                    b::h4.eq(bins[4]),
                    b::h5.eq(bins[5]),
                    b::h6.eq(bins[6]),
                    b::h7.eq(bins[7]),
                ),
                (
                    b::h8.eq(bins[8]),
                    b::h9.eq(bins[9]),
                    b::h10.eq(bins[10]),
                    b::h11.eq(bins[11]),
                    b::h12.eq(bins[12]),
                    b::h13.eq(bins[13]),
                    b::h14.eq(bins[14]),
                    b::h15.eq(bins[15]),
                ),
            );
            diesel::insert_into(health_buckets::table)
                .values(row)
                .on_conflict((b::integration_id, b::span_seconds, b::bucket_start))
                .do_update()
                .set((
                    b::checks.eq(b::checks + excluded(b::checks)),
                    b::check_failures.eq(b::check_failures + excluded(b::check_failures)),
                    b::calls.eq(b::calls + excluded(b::calls)),
                    b::call_failures.eq(b::call_failures + excluded(b::call_failures)),
                    b::latency_sum.eq(b::latency_sum + excluded(b::latency_sum)),
                    b::latency_count.eq(b::latency_count + excluded(b::latency_count)),
                    (
                        b::h0.eq(b::h0 + excluded(b::h0)),
                        b::h1.eq(b::h1 + excluded(b::h1)),
                        b::h2.eq(b::h2 + excluded(b::h2)),
                        b::h3.eq(b::h3 + excluded(b::h3)),
                        b::h4.eq(b::h4 + excluded(b::h4)),
                        b::h5.eq(b::h5 + excluded(b::h5)),
                        b::h6.eq(b::h6 + excluded(b::h6)),
                        b::h7.eq(b::h7 + excluded(b::h7)),
                    ),
                    (
                        b::h8.eq(b::h8 + excluded(b::h8)),
                        b::h9.eq(b::h9 + excluded(b::h9)),
                        b::h10.eq(b::h10 + excluded(b::h10)),
                        b::h11.eq(b::h11 + excluded(b::h11)),
                        b::h12.eq(b::h12 + excluded(b::h12)),
                        b::h13.eq(b::h13 + excluded(b::h13)),
                        b::h14.eq(b::h14 + excluded(b::h14)),
                        b::h15.eq(b::h15 + excluded(b::h15)),
                    ),
                ))
                .execute(&mut *$conn)
                .await?;
        }
    }};
}
use add_to_buckets;

/// Adds a call to the buckets on its own (passive health without a state change).
pub async fn observe(
    store: &Store,
    integration_id: &str,
    observation: Observation,
) -> StoreResult<()> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            add_to_buckets!(conn, integration_id, observation);
            Ok(())
        })
        .await
    })
}

fn totals_of(row: &BucketColumns) -> BucketTotals {
    let (a, b) = (row.9, row.10);
    BucketTotals {
        checks: i64::from(row.3),
        check_failures: i64::from(row.4),
        calls: i64::from(row.5),
        call_failures: i64::from(row.6),
        latency_sum: row.7,
        latency_count: i64::from(row.8),
        histogram: [
            a.0, a.1, a.2, a.3, a.4, a.5, a.6, a.7, b.0, b.1, b.2, b.3, b.4, b.5, b.6, b.7,
        ]
        .map(i64::from),
    }
}

impl BucketTotals {
    fn add(&mut self, other: &BucketTotals) {
        self.checks += other.checks;
        self.check_failures += other.check_failures;
        self.calls += other.calls;
        self.call_failures += other.call_failures;
        self.latency_sum += other.latency_sum;
        self.latency_count += other.latency_count;
        for (mine, theirs) in self.histogram.iter_mut().zip(other.histogram) {
            *mine += theirs;
        }
    }
}

macro_rules! bucket_columns {
    () => {
        (
            health_buckets::integration_id,
            health_buckets::span_seconds,
            health_buckets::bucket_start,
            health_buckets::checks,
            health_buckets::check_failures,
            health_buckets::calls,
            health_buckets::call_failures,
            health_buckets::latency_sum,
            health_buckets::latency_count,
            (
                health_buckets::h0,
                health_buckets::h1,
                health_buckets::h2,
                health_buckets::h3,
                health_buckets::h4,
                health_buckets::h5,
                health_buckets::h6,
                health_buckets::h7,
            ),
            (
                health_buckets::h8,
                health_buckets::h9,
                health_buckets::h10,
                health_buckets::h11,
                health_buckets::h12,
                health_buckets::h13,
                health_buckets::h14,
                health_buckets::h15,
            ),
        )
    };
}

/// The buckets of one size of these integrations since a time, oldest first.
async fn buckets(
    store: &Store,
    ids: &[String],
    span_seconds: i32,
    since: NaiveDateTime,
) -> StoreResult<Vec<BucketColumns>> {
    with_read!(store, |conn| {
        Ok(health_buckets::table
            .filter(health_buckets::integration_id.eq_any(ids))
            .filter(health_buckets::span_seconds.eq(span_seconds))
            .filter(health_buckets::bucket_start.ge(since))
            .order(health_buckets::bucket_start.asc())
            .select(bucket_columns!())
            .load(conn)
            .await?)
    })
}

/// Totals per integration over buckets of one size since a time (one query for a page).
pub async fn totals(
    store: &Store,
    ids: &[String],
    span_seconds: i32,
    since: NaiveDateTime,
) -> StoreResult<std::collections::HashMap<String, BucketTotals>> {
    let mut out: std::collections::HashMap<String, BucketTotals> = std::collections::HashMap::new();
    for row in buckets(store, ids, span_seconds, since).await? {
        out.entry(row.0.clone()).or_default().add(&totals_of(&row));
    }
    Ok(out)
}

/// One integration's buckets of one size since a time, oldest first.
pub async fn history(
    store: &Store,
    id: &str,
    span_seconds: i32,
    since: NaiveDateTime,
) -> StoreResult<Vec<Bucket>> {
    Ok(buckets(store, &[id.to_owned()], span_seconds, since)
        .await?
        .iter()
        .map(|row| Bucket {
            start: row.2,
            totals: totals_of(row),
        })
        .collect())
}

/// The newest transitions of an integration, newest first.
pub async fn transitions(store: &Store, id: &str, limit: i64) -> StoreResult<Vec<TransitionRow>> {
    with_read!(store, |conn| {
        Ok(health_transitions::table
            .filter(health_transitions::integration_id.eq(id))
            .order(health_transitions::id.desc())
            .limit(limit)
            .select(TransitionRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Counts of state rows by status in the given projects (`None`: all).
pub async fn status_counts(
    store: &Store,
    project_ids: Option<&[String]>,
) -> StoreResult<Vec<(String, i64)>> {
    with_read!(store, |conn| {
        let grouped = health_states::table
            .group_by(health_states::status)
            .select((health_states::status, diesel::dsl::count_star()));
        Ok(match project_ids {
            Some(ids) => {
                grouped
                    .filter(health_states::project_id.eq_any(ids))
                    .load(conn)
                    .await?
            }
            None => grouped.load(conn).await?,
        })
    })
}

/// Drops buckets of a size older than a time (retention); returns how many.
pub async fn prune_buckets(
    store: &Store,
    span_seconds: i32,
    older_than: NaiveDateTime,
) -> StoreResult<usize> {
    with_write!(store, |conn| {
        Ok(diesel::delete(
            health_buckets::table
                .filter(health_buckets::span_seconds.eq(span_seconds))
                .filter(health_buckets::bucket_start.lt(older_than)),
        )
        .execute(conn)
        .await?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn latencies_fall_in_their_bins_and_times_in_their_buckets() {
        assert_eq!(bin_of(0), 0);
        assert_eq!(bin_of(10), 0);
        assert_eq!(bin_of(11), 1);
        assert_eq!(bin_of(30_000), 14);
        assert_eq!(bin_of(30_001), 15);
        let at = chrono::NaiveDate::from_ymd_opt(2026, 11, 26)
            .unwrap()
            .and_hms_opt(10, 17, 42)
            .unwrap();
        assert_eq!(floor_to(at, 60).to_string(), "2026-11-26 10:17:00");
        assert_eq!(floor_to(at, 3600).to_string(), "2026-11-26 10:00:00");
    }
}
