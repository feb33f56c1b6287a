//! Background workers over the durable queue: the outbox dispatcher (events → in-process
//! subscribers and webhook deliveries) and the delivery worker. They wake on an
//! in-process signal, on PostgreSQL NOTIFY from other replicas, and poll as a fallback;
//! on shutdown they stop claiming and let in-flight deliveries finish.

pub mod delivery;
pub mod monitor;
pub mod sync;

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::domain::webhooks::{DELIVER_JOB, first_delay, plan_events};
use crate::events::BusEvent;
use crate::store::{jobs as job_store, now, pg, webhooks as webhook_store};

const POLL: Duration = Duration::from_millis(500);
const DISPATCH_BATCH: i64 = 500;
/// How often the leading dispatcher checks that its lock's session is alive.
const LEADERSHIP_CHECK: Duration = Duration::from_secs(1);
/// Deliveries in flight at once in this process.
const MAX_IN_FLIGHT: usize = 512;

/// Starts what this process's roles need: with workers, the dispatcher, the delivery
/// worker, the monitors and the sync scheduler; on PostgreSQL always the listener for
/// other replicas' notifications and the relay of live events to them; API-only, the
/// forwarder of wake-ups to the worker replicas.
pub fn spawn(app: Arc<App>, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    let workers = app.config.roles.workers;
    // Relayed events are published by one task, in the order they came.
    let (relayed, relayed_queue) = tokio::sync::mpsc::unbounded_channel();
    let receiver = tokio::spawn(crate::events::relay::receive(
        app.store.clone(),
        app.events.clone(),
        app.workers.worker_id.clone(),
        relayed_queue,
    ));
    let listener = {
        let app = app.clone();
        let stop = shutdown.clone();
        let store = app.store.clone();
        tokio::spawn(async move {
            // The relay's channel goes last: `pg::listeners` counts sessions by it.
            let channels: &[&str] = if workers {
                &[
                    pg::DELIVERIES_CHANNEL,
                    pg::WAKE_CHANNEL,
                    crate::events::relay::CHANNEL,
                ]
            } else {
                &[crate::events::relay::CHANNEL]
            };
            pg::listen(
                store,
                channels,
                |channel, payload| match channel {
                    pg::DELIVERIES_CHANNEL => app.workers.wake.deliveries.notify_one(),
                    pg::WAKE_CHANNEL => wake_from_replica(&app, payload),
                    _ => {
                        let _ = relayed.send(payload.to_owned());
                    }
                },
                stop,
            )
            .await
        })
    };
    let mut tasks = vec![listener, receiver];
    if workers {
        tasks.push(tokio::spawn(dispatcher(app.clone(), shutdown.clone())));
        tasks.push(tokio::spawn(delivery_worker(app.clone(), shutdown.clone())));
        tasks.extend(monitor::spawn(app.clone(), shutdown.clone()));
        tasks.push(tokio::spawn(sync::scheduler(app.clone(), shutdown.clone())));
    } else {
        tasks.push(tokio::spawn(forward_wakes(app.clone(), shutdown.clone())));
    }
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

/// A wake-up another replica sent. Only the leading dispatcher takes "dispatch": a
/// follower would forward it again.
fn wake_from_replica(app: &App, what: &str) {
    match what {
        pg::WAKE_DISPATCH if app.workers.dispatch_leader.load(Ordering::Relaxed) => {
            app.workers.wake.dispatcher.notify_one();
        }
        pg::WAKE_SYNCS => app.workers.wake.syncs.notify_one(),
        _ => {}
    }
}

/// API-only: what this process stored for the workers (outbox events, delivery jobs,
/// sync runs) is announced to the worker replicas, which would otherwise find it only
/// at their next poll.
async fn forward_wakes(app: Arc<App>, shutdown: CancellationToken) {
    let wake = &app.workers.wake;
    loop {
        let (channel, payload) = tokio::select! {
            () = shutdown.cancelled() => return,
            () = wake.dispatcher.notified() => (pg::WAKE_CHANNEL, pg::WAKE_DISPATCH),
            () = wake.deliveries.notified() => (pg::DELIVERIES_CHANNEL, ""),
            () = wake.syncs.notified() => (pg::WAKE_CHANNEL, pg::WAKE_SYNCS),
        };
        if let Err(err) = pg::notify(&app.store, channel, payload).await {
            tracing::debug!(error = %err, "NOTIFY failed; the workers will poll");
        }
    }
}

/// The outbox dispatcher. On PostgreSQL one replica leads at a time (a session advisory
/// lock, taken over within a poll when the leader dies): dispatching is safe from any
/// number of replicas (`SKIP LOCKED`, the dispatched flag), but only a single publisher
/// gives every subscriber, on every replica, a project's events in the same order.
async fn dispatcher(app: Arc<App>, shutdown: CancellationToken) {
    let plan = plan_events(first_delay(&app));
    let elected = matches!(app.store.backend(), crate::store::Backend::Postgres);
    let mut leadership: Option<pg::Leadership> = None;
    let mut last_try: Option<Instant> = None;
    let mut last_held_check = Instant::now();
    loop {
        let leading = if elected {
            if let Some(held) = leadership.as_mut()
                && last_held_check.elapsed() >= LEADERSHIP_CHECK
            {
                last_held_check = Instant::now();
                if !held.held().await {
                    tracing::warn!("lost the event dispatch lock (database session ended)");
                    leadership = None;
                }
            }
            if leadership.is_none() && last_try.is_none_or(|at| at.elapsed() >= POLL) {
                last_try = Some(Instant::now());
                match pg::Leadership::try_take(&app.store, pg::DISPATCH_LEADER_KEY).await {
                    Ok(Some(taken)) => {
                        tracing::info!("this replica dispatches the event outbox");
                        leadership = Some(taken);
                        last_held_check = Instant::now();
                    }
                    Ok(None) => {}
                    Err(err) => tracing::debug!(error = %err, "cannot try the dispatch lock"),
                }
            }
            leadership.is_some()
        } else {
            true
        };
        app.workers
            .dispatch_leader
            .store(leading, Ordering::Relaxed);
        if leading {
            dispatch_all(&app, &plan).await;
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = app.workers.wake.dispatcher.notified() => {
                if !leading
                    && let Err(err) = pg::notify(&app.store, pg::WAKE_CHANNEL, pg::WAKE_DISPATCH).await
                {
                    tracing::debug!(error = %err, "NOTIFY failed; the dispatcher will poll");
                }
            }
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

/// Dispatches undispatched outbox events, a batch per transaction, until none are left.
async fn dispatch_all(app: &App, plan: &webhook_store::DeliveryPlan) {
    loop {
        match webhook_store::dispatch_events(&app.store, DISPATCH_BATCH, plan).await {
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
                    return;
                }
            }
            Err(err) => {
                tracing::warn!(error = %err, "event dispatch failed; will retry");
                return;
            }
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
                let held = job
                    .queue_key
                    .as_deref()
                    .map(|endpoint| app.workers.endpoint_limits.hold(endpoint));
                in_flight.spawn(async move {
                    delivery::run(&app, &recorder, job, context, held).await;
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
