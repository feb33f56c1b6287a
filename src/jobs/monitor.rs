//! The monitoring workers: the health-check scheduler (due checks claimed from the store,
//! `SKIP LOCKED` on PostgreSQL, so replicas never check one integration twice and a
//! restart resumes the schedule) and the alert evaluator (metric rules, reminders).

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::domain::{alerts, health, integrations};
use crate::store::{health as health_store, now};

/// Checks run at once by this process (they mostly wait on upstreams).
const MAX_IN_FLIGHT: usize = 256;
/// How often the scheduler looks for due checks when nothing woke it.
const TICK: Duration = Duration::from_millis(250);
/// How long a claimed check stays claimed if its worker dies (longer than any timeout).
const LEASE: Duration = Duration::from_secs(90);
/// When a skipped (disabled, MAINTENANCE) integration is looked at again.
const SKIPPED_RECHECK: Duration = Duration::from_secs(60);

pub fn spawn(app: Arc<App>, shutdown: CancellationToken) -> Vec<JoinHandle<()>> {
    vec![
        tokio::spawn(scheduler(app.clone(), shutdown.clone())),
        tokio::spawn(evaluator(app, shutdown)),
    ]
}

async fn scheduler(app: Arc<App>, shutdown: CancellationToken) {
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_IN_FLIGHT));
    let freed = Arc::new(tokio::sync::Notify::new());
    let mut in_flight = tokio::task::JoinSet::new();
    loop {
        // Claim as long as slots are free and checks are due: at 100,000 integrations on a
        // 60 s interval that is ~1,700 checks/s, more than one claim per tick can hold.
        loop {
            while in_flight.try_join_next().is_some() {}
            let free = slots.available_permits() as i64;
            if free == 0 {
                break;
            }
            let at = now();
            let lease_until = at + chrono::Duration::from_std(LEASE).unwrap_or_default();
            let due = match health_store::claim_due(&app.store, at, lease_until, free).await {
                Ok(due) => due,
                Err(err) => {
                    tracing::warn!(error = %err, "claiming health checks failed; will retry");
                    break;
                }
            };
            let claimed = due.len() as i64;
            for state in due {
                if let Some(due_at) = state.next_check_at {
                    let late = (at - due_at).num_milliseconds().max(0) as f64 / 1000.0;
                    app.telemetry.health_check_delay(late);
                }
                let Ok(permit) = slots.clone().acquire_owned().await else {
                    return;
                };
                let (app, freed) = (app.clone(), freed.clone());
                in_flight.spawn(async move {
                    run_one(&app, &state.integration_id).await;
                    drop(permit);
                    freed.notify_one();
                });
            }
            if claimed < free {
                break;
            }
        }
        tokio::select! {
            () = shutdown.cancelled() => {
                while in_flight.join_next().await.is_some() {}
                return;
            }
            () = freed.notified(), if slots.available_permits() == 0 => {}
            () = tokio::time::sleep(TICK) => {}
        }
    }
}

/// Runs one claimed check (or records why it was skipped).
async fn run_one(app: &App, integration_id: &str) {
    let found = integrations::get_many_unchecked(&app.store, &[integration_id.to_owned()]).await;
    let integration = match found {
        Ok(mut found) => match found.pop() {
            Some(integration) => integration,
            // Deleted meanwhile: its state went with it.
            None => return,
        },
        Err(err) => {
            tracing::warn!(integration = integration_id, error = %err, "loading an integration to check failed");
            return;
        }
    };
    let postpone = |reason: String, next| async move {
        if let Err(err) = health_store::postpone(&app.store, integration_id, &reason, next).await {
            tracing::warn!(integration = integration_id, error = %err, "postponing a check failed");
        }
    };
    let Some(check) = integration.call_options.health_check.clone() else {
        postpone("no health check configured".to_owned(), None).await;
        return;
    };
    if let Some(reason) = health::skipped_because(&integration) {
        let next = now() + chrono::Duration::from_std(SKIPPED_RECHECK).unwrap_or_default();
        postpone(reason, Some(next)).await;
        return;
    }
    if let Err(err) = health::check(app, &integration).await {
        tracing::warn!(integration = integration_id, error = %err, "a health check could not be recorded");
        postpone(
            format!("the last check could not be recorded: {err}"),
            Some(health::next_due(now(), check.interval_seconds)),
        )
        .await;
    }
}

async fn evaluator(app: Arc<App>, shutdown: CancellationToken) {
    loop {
        if let Err(err) = alerts::evaluate_metric_rules(&app).await {
            tracing::warn!(error = %err, "evaluating alert rules failed; will retry");
        }
        if let Err(err) = alerts::send_reminders(&app).await {
            tracing::warn!(error = %err, "sending alert reminders failed; will retry");
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(app.config.alert_evaluation.min(Duration::from_secs(5))) => {}
        }
    }
}
