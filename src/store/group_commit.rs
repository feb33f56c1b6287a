//! Journals that change nothing else (a published event, a failed refresh) are written
//! together: whatever arrives while one transaction commits goes into the next one (group
//! commit). Thirty-two publishers then cost the database one commit per round instead of
//! thirty-two, and a journal is still acknowledged only once the transaction holding it
//! has committed: nothing acknowledged can be lost.

use std::sync::{Mutex, PoisonError};

use diesel_async::{AsyncConnection, RunQueryDsl};
use tokio::sync::oneshot;

use super::schema::{audit_log, events, logs};
use super::{Journal, Pools, ROWS_PER_INSERT, Store, StoreError, StoreResult, write_journal};

type Reply = oneshot::Sender<StoreResult<()>>;

/// Journals waiting for the next transaction, and whose turn it is to write one.
#[derive(Default)]
pub(crate) struct GroupCommit {
    pending: Mutex<Vec<(Journal, Reply)>>,
    turn: tokio::sync::Mutex<()>,
}

impl GroupCommit {
    fn push(&self, journal: Journal, reply: Reply) {
        // The list stays whole when a holder panics: a poisoned lock is still usable.
        self.pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((journal, reply));
    }

    fn take(&self) -> Vec<(Journal, Reply)> {
        std::mem::take(&mut *self.pending.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

impl Store {
    /// Writes a journal on its own, in one transaction with the journals that arrive
    /// meanwhile; returns once that transaction has committed.
    pub async fn write_journal(&self, journal: Journal) -> StoreResult<()> {
        let (reply, mut answer) = oneshot::channel();
        self.group_commit.push(journal, reply);
        // Callers take turns (the lock is fair): the one whose turn it is writes every
        // journal waiting, its own and those that arrived while the previous turn wrote.
        let turn = self.group_commit.turn.lock().await;
        match answer.try_recv() {
            Ok(written) => return written,
            Err(oneshot::error::TryRecvError::Closed) => return Err(writer_gone()),
            Err(oneshot::error::TryRecvError::Empty) => {}
        }
        let batch = self.group_commit.take();
        if !batch.is_empty() {
            // In a task of its own: a caller that goes away mid-write must not cancel
            // the transaction that holds the others' journals.
            let _ = tokio::spawn(write_batch(self.clone(), batch)).await;
        }
        drop(turn);
        answer.await.map_err(|_| writer_gone())?
    }
}

fn writer_gone() -> StoreError {
    StoreError::Unavailable("the journal writer stopped before answering".into())
}

async fn write_batch(store: Store, batch: Vec<(Journal, Reply)>) {
    let (journals, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
    match insert_journals(&store, &journals).await {
        Ok(()) => {
            for reply in replies {
                let _ = reply.send(Ok(()));
            }
        }
        Err(err) if journals.len() > 1 => {
            // One journal the database refuses must not fail the others: one by one.
            tracing::debug!(error = %err, "journal batch failed; writing it journal by journal");
            for (journal, reply) in journals.iter().zip(replies) {
                let _ = reply.send(insert_journals(&store, std::slice::from_ref(journal)).await);
            }
        }
        Err(err) => {
            if let Some(reply) = replies.into_iter().next() {
                let _ = reply.send(Err(err));
            }
        }
    }
}

/// Every journal in one transaction: a multi-row INSERT per table on PostgreSQL, a
/// statement per row on SQLite (in-process; diesel-async does not build SQLite's
/// multi-row INSERT).
async fn insert_journals(store: &Store, journals: &[Journal]) -> StoreResult<()> {
    match store.pools() {
        Pools::Postgres(pool) => {
            let log_rows: Vec<_> = journals.iter().flat_map(|j| j.logs.clone()).collect();
            let audit_rows: Vec<_> = journals.iter().map(|j| j.audit.clone()).collect();
            let event_rows: Vec<_> = journals.iter().flat_map(|j| j.events.clone()).collect();
            let mut conn = pool.get().await.map_err(StoreError::pool)?;
            conn.transaction::<_, StoreError, _>(async |conn| {
                for chunk in log_rows.chunks(ROWS_PER_INSERT) {
                    diesel::insert_into(logs::table)
                        .values(chunk)
                        .execute(conn)
                        .await?;
                }
                for chunk in audit_rows.chunks(ROWS_PER_INSERT) {
                    diesel::insert_into(audit_log::table)
                        .values(chunk)
                        .execute(conn)
                        .await?;
                }
                for chunk in event_rows.chunks(ROWS_PER_INSERT) {
                    diesel::insert_into(events::table)
                        .values(chunk)
                        .execute(conn)
                        .await?;
                }
                Ok(())
            })
            .await
        }
        Pools::Sqlite(sqlite) => {
            let mut conn = sqlite.write().get().await.map_err(StoreError::pool)?;
            conn.transaction::<_, StoreError, _>(async |conn| {
                for journal in journals {
                    write_journal!(conn, journal);
                }
                Ok(())
            })
            .await
        }
    }
}

#[cfg(test)]
mod tests {
    use diesel::{ExpressionMethods, QueryDsl};

    use super::*;
    use crate::store::audit::AuditRow;
    use crate::store::events::EventRow;
    use crate::store::{DatabaseTarget, now, with_read};

    const PROJECT: &str = "prj_groupcommit";

    fn journal(n: usize, event_id: &str) -> Journal {
        Journal {
            logs: Vec::new(),
            audit: AuditRow {
                id: format!("aud_groupcommit{n:04}"),
                actor_id: None,
                actor_name: "test".into(),
                action: "event.publish".into(),
                target_type: "event".into(),
                target_id: Some(event_id.into()),
                project_id: Some(PROJECT.into()),
                request_id: None,
                details: "{}".into(),
                at: now(),
            },
            events: vec![EventRow {
                id: event_id.into(),
                project_id: PROJECT.into(),
                event_type: "custom.groupcommit".into(),
                payload: "{}".into(),
                dispatched: false,
                dedupe_key: None,
                created_at: now(),
            }],
        }
    }

    /// 64 journals queued while a turn is held are written by the next turn together; the
    /// one the database refuses (its event id is taken) fails alone, the others commit.
    async fn a_batch_commits_all_but_the_refused_journal(store: Store) {
        store.write_journal(journal(0, "msg_taken")).await.unwrap();
        let turn = store.group_commit.turn.lock().await;
        let writes: Vec<_> = (1..=64)
            .map(|n| {
                let store = store.clone();
                let id = if n == 32 {
                    "msg_taken".to_owned()
                } else {
                    format!("msg_groupcommit{n:04}")
                };
                tokio::spawn(async move { store.write_journal(journal(n, &id)).await })
            })
            .collect();
        while store.group_commit.pending.lock().unwrap().len() < 64 {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        drop(turn);
        for (n, write) in (1..=64).zip(writes) {
            let written = write.await.unwrap();
            if n == 32 {
                assert!(
                    matches!(written, Err(StoreError::Conflict(_))),
                    "{written:?}"
                );
            } else {
                written.unwrap();
            }
        }
        assert_eq!(counts(&store).await.unwrap(), (64, 64));
    }

    /// Events and audit rows of the test project.
    async fn counts(store: &Store) -> StoreResult<(i64, i64)> {
        with_read!(store, |conn| {
            let events = events::table
                .filter(events::project_id.eq(PROJECT))
                .count()
                .get_result(&mut *conn)
                .await?;
            let audits = audit_log::table
                .filter(audit_log::project_id.eq(PROJECT))
                .count()
                .get_result(&mut *conn)
                .await?;
            Ok((events, audits))
        })
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_batches_commit_all_but_the_refused_journal() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(DatabaseTarget::Sqlite(dir.path().join("gc.db")), 4)
            .await
            .unwrap();
        a_batch_commits_all_but_the_refused_journal(store).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_batches_commit_all_but_the_refused_journal() {
        let Some(db) = crate::store::TestDatabase::create("group commit").await else {
            return;
        };
        let store = Store::open(DatabaseTarget::Postgres(db.url.clone()), 4)
            .await
            .unwrap();
        a_batch_commits_all_but_the_refused_journal(store).await;
        db.drop_database().await;
    }
}
