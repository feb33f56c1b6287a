//! In-process fan-out of what happened, to live subscribers.
//!
//! Every event is written to the store first (in the transaction of its change) and
//! published here only after the commit, so a subscriber never sees something that
//! was rolled back. Cross-replica fan-out over PostgreSQL LISTEN/NOTIFY plugs in
//! behind [`EventBus::publish`].

pub mod catalog;
pub mod outbox;

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::domain::executions::Execution;
use crate::domain::logs::LogEntry;

/// Something a subscription may want to see.
#[derive(Debug, Clone)]
pub enum BusEvent {
    Log(LogEntry),
    /// An outgoing call finished (boxed: records are large and calls frequent).
    Execution(Box<Execution>),
    /// An outbox event was dispatched.
    Event(Box<crate::store::events::EventRow>),
    /// A webhook delivery attempt finished.
    DeliveryAttempt(Box<crate::store::webhooks::AttemptRow>),
}

/// A broadcast channel of [`BusEvent`]s; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<BusEvent>>,
}

impl EventBus {
    /// A bus whose slowest subscriber may fall `capacity` events behind before it lags.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        EventBus { sender }
    }

    /// Delivers an event to every current subscriber (none is fine).
    pub fn publish(&self, event: BusEvent) {
        let _ = self.sender.send(Arc::new(event));
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<BusEvent>> {
        self.sender.subscribe()
    }

    /// How many subscribers are listening (operators' gauge; tests wait on it).
    pub fn subscriber_count(&self) -> usize {
        self.sender.receiver_count()
    }
}
