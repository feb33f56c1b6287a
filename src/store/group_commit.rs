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
