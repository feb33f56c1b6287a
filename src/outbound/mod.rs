//! Outgoing HTTP: the execution engine and what protects it. Every URL patchbay calls
//! goes through [`ssrf::check_url`] and the guarded resolver of the shared client.
//! This room sends and returns outcomes; the domain decides what they mean.

pub mod auth;
pub mod cache;
pub mod classify;
pub mod engine;
pub mod guard;
pub mod policy;
pub mod retry;
pub mod ssrf;
pub mod target;
pub mod transform;

use std::sync::Arc;
use std::time::Duration;

use guard::IntegrationGuard;

use crate::config::{Config, OutboundConfig};
use crate::store::Store;
use crate::vault::Vault;

/// The outbound room of a process: the one HTTP client (pooled, rustls, no automatic
/// redirects, SSRF-guarded DNS resolution), what the SSRF guard lets through, protection
/// per integration, the response cache, and the credentials refresher.
pub struct Outbound {
    pub http: reqwest::Client,
    pub ssrf: Arc<ssrf::SsrfPolicy>,
    pub config: OutboundConfig,
    guards: moka::sync::Cache<String, Arc<IntegrationGuard>>,
    pub cache: cache::ResponseCache,
    pub refresher: auth::Refresher,
}

impl Outbound {
    pub fn new(config: &Config, store: Store, vault: Arc<Vault>) -> anyhow::Result<Self> {
        let ssrf = Arc::new(ssrf::SsrfPolicy {
            allow_private: config.allow_private_networks,
            allow_cidrs: config.outbound.allow_cidrs.clone(),
        });
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(ssrf::GuardedResolver {
                policy: ssrf.clone(),
            })
            .pool_max_idle_per_host(64)
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(30))
            .user_agent(concat!("patchbay/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Outbound {
            refresher: auth::Refresher::new(
                store,
                vault,
                http.clone(),
                ssrf.clone(),
                config.oauth_refresh_skew,
            ),
            http,
            ssrf,
            config: config.outbound.clone(),
            // Idle integrations lose their state (a fresh bucket, a closed circuit).
            guards: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            cache: cache::new_cache(),
        })
    }

    /// The protection state of one integration.
    pub fn guard(&self, integration_id: &str) -> Arc<IntegrationGuard> {
        self.guards
            .get_with_by_ref(integration_id, || Arc::new(IntegrationGuard::default()))
    }

    /// The circuit state of an integration without creating state for it.
    pub fn circuit_state(&self, integration_id: &str) -> guard::CircuitState {
        self.guards
            .get(integration_id)
            .map_or(guard::CircuitState::Closed, |g| g.circuit_state())
    }
}
