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
use crate::store::jobs::JobRow;
use crate::store::webhooks::DeliveryContext;
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
        // The dispatcher hands the jobs it leases for this process to the delivery worker.
        let (handover, handed_over) = tokio::sync::mpsc::unbounded_channel();
        let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
        tasks.push(tokio::spawn(dispatcher(
            app.clone(),
            shutdown.clone(),
            Handing {
                jobs: handover,
                slots: slots.clone(),
            },
        )));
        tasks.push(tokio::spawn(delivery_worker(
            app.clone(),
            shutdown.clone(),
            slots,
            handed_over,
        )));
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
async fn dispatcher(app: Arc<App>, shutdown: CancellationToken, handing: Handing) {
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
            dispatch_all(&app, &plan, &handing).await;
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

/// Where the dispatcher hands the jobs it leased for this process's delivery worker.
struct Handing {
    jobs: tokio::sync::mpsc::UnboundedSender<Vec<(JobRow, DeliveryContext)>>,
    /// The delivery worker's free slots bound how many it is handed.
    slots: Arc<tokio::sync::Semaphore>,
}

/// How long a delivery job stays leased: past the attempt's timeout, so a crashed
/// worker's jobs come back soon after it.
fn delivery_lease(app: &App) -> chrono::NaiveDateTime {
    let lease = app.config.webhooks.timeout * 2 + Duration::from_secs(5);
    now() + chrono::Duration::from_std(lease).unwrap_or_default()
}

/// Dispatches undispatched outbox events, a batch per transaction, until none are left.
/// Deliveries due now go straight to this process's delivery worker, leased to it in
/// the dispatch transaction, as far as its slots and each endpoint's room go; the rest
/// wait in the store for any replica's worker to claim.
async fn dispatch_all(app: &App, plan: &webhook_store::DeliveryPlan, handing: &Handing) {
    loop {
        let room = |key: &str| app.workers.endpoint_limits.room(key);
        let handover = webhook_store::Handover {
            owner: &app.workers.worker_id,
            lease_until: delivery_lease(app),
            room: &room,
            limit: handing.slots.available_permits(),
        };
        let handover = (!handing.jobs.is_closed()).then_some(&handover);
        match webhook_store::dispatch_events(&app.store, DISPATCH_BATCH, plan, handover).await {
            Ok(dispatched) => {
                let events = dispatched.events;
                let done = (events.len() as i64) < DISPATCH_BATCH;
                let handed = dispatched.handed_over.len();
                if handed > 0 && handing.jobs.send(dispatched.handed_over).is_err() {
                    // The worker stopped (shutting down): the leases run out and any
                    // replica claims the jobs then.
                    tracing::debug!("delivery worker gone; handed-over jobs wait for their lease");
                }
                if dispatched.planned > handed {
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

async fn delivery_worker(
    app: Arc<App>,
    shutdown: CancellationToken,
    slots: Arc<tokio::sync::Semaphore>,
    mut handed_over: tokio::sync::mpsc::UnboundedReceiver<Vec<(JobRow, DeliveryContext)>>,
) {
    let worker = DeliveryWorker {
        recorder: delivery::Recorder::spawn(app.store.clone()),
        app,
        slots,
    };
    let app = &worker.app;
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        loop {
            while in_flight.try_join_next().is_some() {}
            let free = worker.slots.available_permits().min(256) as i64;
            if free == 0 {
                break;
            }
            let claimed = match job_store::claim(
                &app.store,
                DELIVER_JOB,
                &app.workers.worker_id,
                delivery_lease(app),
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
            if !worker.start_claimed(claimed, &mut in_flight).await || count < free {
                break;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                // Finish what is in flight; unclaimed jobs wait in the store.
                while in_flight.join_next().await.is_some() {}
                return;
            }
            Some(jobs) = handed_over.recv() => {
                let jobs = jobs.into_iter().map(|(job, context)| (job, Some(context)));
                worker.start(jobs, &mut in_flight).await;
            }
            () = app.workers.wake.deliveries.notified() => {}
            () = tokio::time::sleep(POLL) => {}
        }
    }
}

struct DeliveryWorker {
    app: Arc<App>,
    recorder: delivery::Recorder,
    slots: Arc<tokio::sync::Semaphore>,
}

impl DeliveryWorker {
    /// Starts the attempts of claimed jobs, reading what they need in one read for the
    /// batch; false when that read failed (the jobs come back when their lease expires).
    async fn start_claimed(
        &self,
        jobs: Vec<JobRow>,
        in_flight: &mut tokio::task::JoinSet<()>,
    ) -> bool {
        if jobs.is_empty() {
            return true;
        }
        let ids: Vec<String> = jobs.iter().filter_map(delivery::delivery_id).collect();
        let mut contexts = match webhook_store::delivery_contexts(&self.app.store, &ids).await {
            Ok(contexts) => contexts,
            Err(err) => {
                tracing::warn!(error = %err, "reading claimed deliveries failed; will retry");
                return false;
            }
        };
        let jobs = jobs.into_iter().map(|job| {
            let context = delivery::delivery_id(&job).and_then(|id| contexts.remove(&id));
            (job, context)
        });
        self.start(jobs, in_flight).await
    }

    /// Starts the attempts of jobs leased to this process (claimed, or handed over by
    /// the dispatcher), each when a slot is free.
    async fn start(
        &self,
        jobs: impl Iterator<Item = (JobRow, Option<DeliveryContext>)>,
        in_flight: &mut tokio::task::JoinSet<()>,
    ) -> bool {
        for (job, context) in jobs {
            let Ok(permit) = self.slots.clone().acquire_owned().await else {
                return false;
            };
            let app = self.app.clone();
            let recorder = self.recorder.clone();
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
        true
    }
}
