//! Background workers over the durable queue: the outbox dispatcher (events → in-process
//! subscribers and webhook deliveries) and the delivery worker. They wake on an
//! in-process signal, on PostgreSQL NOTIFY from other replicas, and poll as a fallback;
//! on shutdown they stop claiming and let in-flight deliveries finish.

pub mod delivery;
pub mod monitor;
pub mod sync;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::domain::webhooks::{DELIVER_JOB, first_delay, plan_events};
use crate::events::BusEvent;
use crate::store::{jobs as job_store, now, pg, webhooks as webhook_store};

const POLL: Duration = Duration::from_millis(500);
const DISPATCH_BATCH: i64 = 500;
/// Deliveries in flight at once in this process.
const MAX_IN_FLIGHT: usize = 512;

/// Starts the dispatcher, the delivery worker, and (on PostgreSQL) the listener for
/// other replicas' notifications and the relay of live events to them.
pub fn spawn(app: Arc<App>, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let listener = {
        let app = app.clone();
        let stop = shutdown.clone();
        let store = app.store.clone();
        tokio::spawn(async move {
            let channels = [pg::DELIVERIES_CHANNEL, crate::events::relay::CHANNEL];
            pg::listen(
                store,
                &channels,
                |channel, payload| {
                    if channel == pg::DELIVERIES_CHANNEL {
                        app.workers.wake.deliveries.notify_one();
                    } else {
                        crate::events::relay::receive(&app.events, &app.workers.worker_id, payload);
                    }
                },
                stop,
            )
            .await
        })
    };
    let mut tasks = vec![
        tokio::spawn(dispatcher(app.clone(), shutdown.clone())),
        tokio::spawn(delivery_worker(app.clone(), shutdown.clone())),
        listener,
    ];
    tasks.extend(monitor::spawn(app.clone(), shutdown.clone()));
    tasks.push(tokio::spawn(sync::scheduler(app.clone(), shutdown.clone())));
    if let Some(outgoing) = app.events.take_relay_queue() {
        tasks.push(tokio::spawn(crate::events::relay::forward(
            app.store.clone(),
            app.workers.worker_id.clone(),
            outgoing,
            shutdown,
        )));
    }
    tasks
}

async fn dispatcher(app: Arc<App>, shutdown: CancellationToken) {
    let plan = plan_events(first_delay(&app));
    loop {
        loop {
            match webhook_store::dispatch_events(&app.store, DISPATCH_BATCH, &plan).await {
                Ok((events, planned)) => {
                    let done = (events.len() as i64) < DISPATCH_BATCH;
                    if planned > 0 {
                        app.workers.wake.deliveries.notify_one();
                        // Other replicas' workers share the jobs.
                        if let Err(err) = pg::notify(&app.store, pg::DELIVERIES_CHANNEL, "").await {
                            tracing::debug!(error = %err, "NOTIFY failed; replicas will poll");
                        }
                    }
                    for event in events {
                        app.events.publish(BusEvent::Event(Box::new(event)));
                    }
                    if done {
                        break;
                    }
                }
                Err(err) => {
                    tracing::warn!(error = %err, "event dispatch failed; will retry");
                    break;
                }
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = app.workers.wake.dispatcher.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

async fn delivery_worker(app: Arc<App>, shutdown: CancellationToken) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let recorder = delivery::Recorder::spawn(app.store.clone());
    let mut in_flight = tokio::task::JoinSet::new();
    // A lease outlives the attempt's timeout; a crashed worker's jobs come back after it.
    let lease = app.config.webhooks.timeout * 2 + Duration::from_secs(5);
    loop {
        loop {
            while in_flight.try_join_next().is_some() {}
            let free = slots.available_permits().min(256) as i64;
            if free == 0 {
                break;
            }
            let lease_until = now() + chrono::Duration::from_std(lease).unwrap_or_default();
            let claimed = match job_store::claim(
                &app.store,
                DELIVER_JOB,
                &app.workers.worker_id,
                lease_until,
                free,
                &|key| app.workers.endpoint_limits.room(key),
            )
            .await
            {
                Ok(claimed) => claimed,
                Err(err) => {
                    tracing::warn!(error = %err, "claiming delivery jobs failed; will retry");
                    break;
                }
            };
            let count = claimed.len() as i64;
            // What the claimed deliveries need, in one read for the batch.
            let ids: Vec<String> = claimed.iter().filter_map(delivery::delivery_id).collect();
            let mut contexts = match webhook_store::delivery_contexts(&app.store, &ids).await {
                Ok(contexts) => contexts,
                Err(err) => {
                    // The claimed jobs come back when their lease expires.
                    tracing::warn!(error = %err, "reading claimed deliveries failed; will retry");
                    break;
                }
            };
            for job in claimed {
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let app = app.clone();
                let recorder = recorder.clone();
                let context = delivery::delivery_id(&job).and_then(|id| contexts.remove(&id));
                in_flight.spawn(async move {
                    delivery::run(&app, &recorder, job, context).await;
                    drop(permit);
                    // A slot (global or the endpoint's) is free: claim again now.
                    app.workers.wake.deliveries.notify_one();
                });
            }
            if count < free {
                break;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                // Finish what is in flight; unclaimed jobs wait in the store.
                while in_flight.join_next().await.is_some() {}
                return;
            }
            () = app.workers.wake.deliveries.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}
