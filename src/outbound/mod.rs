//! Outgoing HTTP: the execution engine and what protects it. Every URL patchbay calls
//! goes through [`ssrf::check_url`] and the guarded resolver of the shared client.

pub mod cache;
pub mod classify;
pub mod engine;
pub mod guard;
pub mod ssrf;
pub mod target;
pub mod transform;

use std::sync::Arc;
use std::time::Duration;

use guard::IntegrationGuard;

/// Per-process state of the engine: protection per integration and the response cache.
pub struct Outbound {
    guards: moka::sync::Cache<String, Arc<IntegrationGuard>>,
    pub cache: cache::ResponseCache,
}

impl Default for Outbound {
    fn default() -> Self {
        Outbound {
            // Idle integrations lose their state (a fresh bucket, a closed circuit).
            guards: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_idle(Duration::from_secs(3600))
                .build(),
            cache: cache::new_cache(),
        }
    }
}

impl Outbound {
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
