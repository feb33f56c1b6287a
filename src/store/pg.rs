//! What only PostgreSQL does: row claims with `FOR UPDATE SKIP LOCKED`, and
//! LISTEN/NOTIFY between replicas. On SQLite the claims take the single writer
//! connection and notifications are no-ops (its one process signals itself in memory).

use diesel_async::RunQueryDsl;

use super::{Pools, Store, StoreError, StoreResult};

/// Runs `$body` on a write connection; `$lock` is applied to the claiming SELECT
/// (`FOR UPDATE SKIP LOCKED` on PostgreSQL, nothing on SQLite).
macro_rules! claiming {
    ($store:expr, |$conn:ident, $lock:ident| $body:block) => {{
        match $store.pools() {
            $crate::store::Pools::Postgres(pool) => {
                let mut guard = pool.get().await.map_err($crate::store::StoreError::pool)?;
                let $conn: &mut diesel_async::AsyncPgConnection = &mut guard;
                macro_rules! $lock {
                    ($q:expr) => {
                        $q.for_update().skip_locked()
                    };
                }
                $body
            }
            $crate::store::Pools::Sqlite(sqlite) => {
                let mut guard = sqlite
                    .write()
                    .get()
                    .await
                    .map_err($crate::store::StoreError::pool)?;
                let $conn: &mut $crate::store::SqliteConn = &mut guard;
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

pub(crate) use claiming;

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
