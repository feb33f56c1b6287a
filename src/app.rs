//! The application: configuration, store, event bus and authenticator, shared by
//! every request as axum state and GraphQL schema data.

use std::sync::Arc;
use std::time::Duration;

use crate::config::Config;
use crate::domain::tokens::Authenticator;
use crate::events::EventBus;
use crate::store::Store;
use crate::vault::Vault;

/// Everything a request or background task needs; held in an `Arc`.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub events: EventBus,
    pub auth: Authenticator,
    pub vault: Vault,
    /// The one HTTP client for outgoing calls (pooled, rustls, no automatic redirects,
    /// SSRF-guarded DNS resolution).
    pub http: reqwest::Client,
    /// What the SSRF guard lets through (shared with the client's resolver).
    pub ssrf: Arc<crate::outbound::ssrf::SsrfPolicy>,
    /// The execution engine's per-integration guards and response cache.
    pub outbound: crate::outbound::Outbound,
    /// Per-endpoint delivery limits of this process.
    pub endpoint_limits: crate::jobs::delivery::EndpointLimits,
    /// Wakes the background workers when work was stored.
    pub wake: Wake,
    /// This process's name as a job lease owner and relay origin.
    pub worker_id: String,
    /// Events for the relay to other replicas, until the relay task takes them.
    relay_queue:
        std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Arc<crate::events::BusEvent>>>>,
    /// One OAuth2 refresh at a time per integration.
    pub refresh_locks: moka::sync::Cache<String, Arc<tokio::sync::Mutex<()>>>,
}

impl App {
    pub fn new(config: Config, store: Store, vault: Vault) -> anyhow::Result<Arc<Self>> {
        let ssrf = Arc::new(crate::outbound::ssrf::SsrfPolicy {
            allow_private: config.allow_private_networks,
            allow_cidrs: config.outbound.allow_cidrs.clone(),
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(crate::outbound::ssrf::GuardedResolver {
                policy: ssrf.clone(),
            })
            .pool_max_idle_per_host(64)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("patchbay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        // Several replicas share a PostgreSQL store: relay live events between them.
        let (events, relay_queue) = match store.backend() {
            crate::store::Backend::Postgres => {
                let (bus, queue) = EventBus::with_relay(config.event_buffer);
                (bus, Some(queue))
            }
            crate::store::Backend::Sqlite => (EventBus::new(config.event_buffer), None),
        };
        Ok(Arc::new(App {
            events,
            relay_queue: std::sync::Mutex::new(relay_queue),
            auth: Authenticator::new(store.clone()),
            refresh_locks: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_idle(Duration::from_secs(600))
                .build(),
            http,
            ssrf,
            outbound: crate::outbound::Outbound::default(),
            wake: Wake::default(),
            endpoint_limits: crate::jobs::delivery::EndpointLimits::new(
                config.webhooks.endpoint_concurrency,
            ),
            worker_id: format!("{}-{}", std::process::id(), uuid::Uuid::new_v4().simple()),
            vault,
            config,
            store,
        }))
    }
}

impl App {
    /// The relay's queue of locally published events (once; `None` on SQLite).
    pub fn take_relay_queue(
        &self,
    ) -> Option<tokio::sync::mpsc::Receiver<Arc<crate::events::BusEvent>>> {
        self.relay_queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }
}

/// In-process wake-ups of the workers (polling is the fallback, and what other replicas use).
#[derive(Default)]
pub struct Wake {
    /// New events in the outbox.
    pub dispatcher: tokio::sync::Notify,
    /// New or rescheduled delivery jobs.
    pub deliveries: tokio::sync::Notify,
}
