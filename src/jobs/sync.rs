//! The sync worker: claims due syncs and unclaimed or abandoned runs from the store
//! (`SKIP LOCKED` on PostgreSQL, the single writer on SQLite), so replicas never run one
//! sync twice and a restart resumes interrupted runs from their cursor; runs them with
//! bounded concurrency. On shutdown, runs stop at their next page and are given back.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::domain::sync::run;

/// Runs in flight at once in this process.
const MAX_IN_FLIGHT: usize = 16;
/// How often the worker looks for due syncs when nothing woke it.
const TICK: Duration = Duration::from_millis(250);

pub async fn scheduler(app: Arc<App>, shutdown: CancellationToken) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        while in_flight.try_join_next().is_some() {}
        let free = slots.available_permits() as i64;
        if free > 0 && !shutdown.is_cancelled() {
            match run::claim(&app, &app.workers.worker_id, free).await {
                Ok(claimed) => {
                    for claimed_run in claimed {
                        let Ok(permit) = slots.clone().acquire_owned().await else {
                            return;
                        };
                        let (app, stop) = (app.clone(), shutdown.clone());
                        in_flight.spawn(async move {
                            let owner = app.workers.worker_id.clone();
                            run::execute(&app, claimed_run, &owner, &stop).await;
                            drop(permit);
                            app.workers.wake.syncs.notify_one();
                        });
                    }
                }
                Err(err) => tracing::warn!(error = %err, "claiming sync runs failed; will retry"),
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                // Runs notice the shutdown at their next page and give their lease back.
                while in_flight.join_next().await.is_some() {}
                return;
            }
            () = app.workers.wake.syncs.notified() => {}
            () = tokio::time::sleep(TICK) => {}
        }
    }
}
