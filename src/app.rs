//! The application: a handful of named parts, shared by every request as axum state and
//! GraphQL schema data. Functions take the narrowest part they need.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::tokens::Authenticator;
use crate::events::EventBus;
use crate::outbound::Outbound;
use crate::store::Store;
use crate::vault::Vault;

/// Everything a request or background task needs; held in an `Arc`.
pub struct App {
    pub config: Config,
    pub store: Store,
    /// Live events to subscribers (and, on PostgreSQL, the relay to other replicas).
    pub events: EventBus,
    pub auth: Authenticator,
    pub vault: Arc<Vault>,
    /// Outgoing HTTP: client, SSRF policy, per-integration guards, cache, credentials.
    pub outbound: Outbound,
    /// What the background workers of this process share.
    pub workers: Workers,
    /// Prometheus metrics of this process.
    pub telemetry: crate::telemetry::Telemetry,
    /// Stats shared by the `stats` subscribers of one scope and tick.
    pub stats_ticks: crate::domain::stats::StatsTicks,
}

/// The background workers' shared state.
pub struct Workers {
    /// Wakes the workers when work was stored.
    pub wake: Wake,
    /// Per-endpoint delivery limits of this process.
    pub endpoint_limits: crate::jobs::delivery::EndpointLimits,
    /// This process's name as a job lease owner and relay origin.
    pub worker_id: String,
    /// Whether this process's dispatcher leads (one replica dispatches the outbox at a
    /// time, so every subscriber sees a project's events in one order).
    pub dispatch_leader: std::sync::atomic::AtomicBool,
}

impl App {
    pub fn new(config: Config, store: Store, vault: Vault) -> anyhow::Result<Arc<Self>> {
        let vault = Arc::new(vault);
        // Several replicas share a PostgreSQL store: relay live events between them.
        let events = match store.backend() {
            crate::store::Backend::Postgres => EventBus::with_relay(config.event_buffer),
            crate::store::Backend::Sqlite => EventBus::new(config.event_buffer),
        };
        Ok(Arc::new(App {
            events,
            auth: Authenticator::new(store.clone()),
            outbound: Outbound::new(&config, store.clone(), vault.clone())?,
            workers: Workers {
                wake: Wake::default(),
                endpoint_limits: crate::jobs::delivery::EndpointLimits::new(
                    config.webhooks.endpoint_concurrency,
                ),
                worker_id: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
                dispatch_leader: std::sync::atomic::AtomicBool::new(false),
            },
            stats_ticks: crate::domain::stats::StatsTicks::default(),
            telemetry: crate::telemetry::Telemetry::default(),
            vault,
            config,
            store,
        }))
    }
}

/// In-process wake-ups of the workers (polling is the fallback, and what other replicas use).
#[derive(Default)]
pub struct Wake {
    /// New events in the outbox.
    pub dispatcher: tokio::sync::Notify,
    /// New or rescheduled delivery jobs.
    pub deliveries: tokio::sync::Notify,
    /// New sync runs, or syncs due now.
    pub syncs: tokio::sync::Notify,
}
