//! In-process fan-out of what happened, to live subscribers.
//!
//! Every event is written to the store first (in the transaction of its change) and
//! published here only after the commit, so a subscriber never sees something that
//! was rolled back. On PostgreSQL, what is published here is also relayed to the other
//! replicas (LISTEN/NOTIFY, see [`relay`]), so every replica's subscribers see it.

pub mod catalog;
pub mod outbox;
pub mod relay;

use std::sync::Arc;

use tokio::sync::broadcast;

use crate::store::alerts::AlertRow;
use crate::store::executions::ExecutionRow;
use crate::store::health::TransitionRow;
use crate::store::logs::LogRow;

/// Something a subscription may want to see: the facts as they were stored (the store's
/// rows), so the bus depends on nothing above the store. Boxed: rows are large and
/// events frequent.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum BusEvent {
    /// A log entry was written.
    Log(Box<LogRow>),
    /// An outgoing call finished.
    Execution(Box<ExecutionRow>),
    /// An outbox event was dispatched.
    Event(Box<crate::store::events::EventRow>),
    /// An integration's health changed.
    HealthChanged(Box<TransitionRow>),
    /// An alert fired, was acknowledged, resolved, or reminded about.
    Alert(Box<AlertEvent>),
    /// A webhook delivery attempt finished.
    DeliveryAttempt(Box<crate::store::webhooks::AttemptRow>),
    /// A sync run started, stored a page, or ended (the run as stored after it).
    SyncRun(Box<crate::store::syncs::SyncRunRow>),
}

/// What happened to an alert, with the alert as stored after it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AlertEvent {
    pub alert: AlertRow,
    /// FIRED, ACKNOWLEDGED, RESOLVED or REMINDED.
    pub transition: String,
    pub at: chrono::NaiveDateTime,
}

/// A broadcast channel of [`BusEvent`]s; cheap to clone.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<Arc<BusEvent>>,
    /// Events published here, for the relay to other replicas (PostgreSQL only).
    outgoing: Option<tokio::sync::mpsc::Sender<Arc<BusEvent>>>,
    /// The relay's end of `outgoing`, until the relay task takes it.
    relay_queue: Arc<std::sync::Mutex<Option<tokio::sync::mpsc::Receiver<Arc<BusEvent>>>>>,
}

/// Events waiting for the relay; past this, the live view of other replicas skips some
/// (the store has everything).
const RELAY_QUEUE: usize = 8192;

impl EventBus {
    /// A bus whose slowest subscriber may fall `capacity` events behind before it lags.
    pub fn new(capacity: usize) -> Self {
        let (sender, _) = broadcast::channel(capacity.max(16));
        EventBus {
            sender,
            outgoing: None,
            relay_queue: Arc::default(),
        }
    }

    /// A bus that also hands what is published here to a relay ([`Self::take_relay_queue`]).
    pub fn with_relay(capacity: usize) -> Self {
        let (outgoing, receiver) = tokio::sync::mpsc::channel(RELAY_QUEUE);
        let mut bus = Self::new(capacity);
        bus.outgoing = Some(outgoing);
        bus.relay_queue = Arc::new(std::sync::Mutex::new(Some(receiver)));
        bus
    }

    /// The relay's queue of locally published events (once; `None` without a relay).
    pub fn take_relay_queue(&self) -> Option<tokio::sync::mpsc::Receiver<Arc<BusEvent>>> {
        self.relay_queue
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take()
    }

    /// Delivers an event to every current subscriber (none is fine), and to the relay.
    pub fn publish(&self, event: BusEvent) {
        let event = Arc::new(event);
        if let Some(outgoing) = &self.outgoing
            && outgoing.try_send(event.clone()).is_err()
        {
            tracing::debug!("the relay queue is full; other replicas miss a live event");
        }
        let _ = self.sender.send(event);
    }

    /// Delivers an event another replica published (not relayed again).
    pub fn publish_remote(&self, event: BusEvent) {
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
