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

/// The channel on which replicas without a local worker (or not leading the dispatch)
/// wake the ones that have it; payloads are [`WAKE_DISPATCH`], [`WAKE_SYNCS`].
pub const WAKE_CHANNEL: &str = "patchbay_wake";
pub const WAKE_DISPATCH: &str = "dispatch";
pub const WAKE_SYNCS: &str = "syncs";

/// Advisory lock key of the event dispatcher's leadership ("pbdisp").
pub const DISPATCH_LEADER_KEY: i64 = 0x7062_6469_7370;

/// A session-level advisory lock held on a connection of its own: while it lives no
/// other replica holds the key, and it goes with the session when the process dies
/// (SIGKILL included), so another replica takes over at its next try.
pub struct Leadership {
    conn: diesel_async::AsyncPgConnection,
}

impl Leadership {
    /// Takes the lock if no other session holds it (`None` then, and always on SQLite,
    /// whose one process needs no election).
    pub async fn try_take(store: &Store, key: i64) -> StoreResult<Option<Self>> {
        #[derive(diesel::QueryableByName)]
        struct Taken {
            #[diesel(sql_type = diesel::sql_types::Bool)]
            taken: bool,
        }
        let super::DatabaseTarget::Postgres(url) = store.target() else {
            return Ok(None);
        };
        let mut conn = super::connect_pg(url).await?;
        let row: Taken = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS taken")
            .bind::<diesel::sql_types::BigInt, _>(key)
            .get_result(&mut conn)
            .await?;
        Ok(row.taken.then_some(Leadership { conn }))
    }

    /// Whether the session, and with it the lock, is still alive.
    pub async fn held(&mut self) -> bool {
        diesel::sql_query("SELECT 1")
            .execute(&mut self.conn)
            .await
            .is_ok()
    }
}

/// Runs `work` while this session holds the transaction-level advisory lock
/// (`scope`, `key`): on PostgreSQL one holder at a time across every replica, others
/// wait. The lock goes with the transaction, so a cancelled or crashed holder cannot
/// leave it behind. On SQLite (one process) `work` just runs.
pub async fn while_locked<T>(
    store: &Store,
    scope: &str,
    key: &str,
    work: impl std::future::Future<Output = T> + Send,
) -> StoreResult<T>
where
    T: Send,
{
    let Pools::Postgres(pool) = store.pools() else {
        return Ok(work.await);
    };
    let mut conn = pool.get().await.map_err(StoreError::pool)?;
    use diesel_async::AsyncConnection;
    conn.transaction::<_, StoreError, _>(async |conn| {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))")
            .bind::<diesel::sql_types::Text, _>(scope)
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(conn)
            .await?;
        Ok(work.await)
    })
    .await
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
