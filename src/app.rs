//! The application: configuration, store, event bus and authenticator, shared by
//! every request as axum state and GraphQL schema data.

use std::sync::Arc;

use crate::config::Config;
use crate::domain::tokens::Authenticator;
use crate::events::EventBus;
use crate::store::Store;

/// Everything a request or background task needs; held in an `Arc`.
pub struct App {
    pub config: Config,
    pub store: Store,
    pub events: EventBus,
    pub auth: Authenticator,
}

impl App {
    pub fn new(config: Config, store: Store) -> Arc<Self> {
        Arc::new(App {
            events: EventBus::new(config.event_buffer),
            auth: Authenticator::new(store.clone()),
            config,
            store,
        })
    }
}
