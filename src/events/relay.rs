//! Cross-replica fan-out: events published on this replica's bus are sent to the others
//! with PostgreSQL NOTIFY (batched, each notification under the 8000-byte limit), and
//! notifications from other replicas are published on the local bus, so a subscriber on
//! any replica sees what happened on every replica, in the order it was published. An
//! outbox event too large for one notification travels as its ID and the receivers read
//! it from the store (in sequence, so order holds); other oversized live events (a log
//! entry with huge metadata) are skipped, being in the store. Nothing is sent while no
//! other replica listens (checked every few seconds), so a single server on PostgreSQL
//! pays nothing for it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::{BusEvent, EventBus};
use crate::store::{Store, pg};

/// The notification channel of relayed events.
pub const CHANNEL: &str = "patchbay_bus";
/// Room left under PostgreSQL's 8000-byte payload limit.
const MAX_PAYLOAD: usize = 7900;
/// Events gathered into one round of notifications.
const MAX_BATCH: usize = 256;
/// How often the relay looks for other replicas.
const PEER_CHECK: std::time::Duration = std::time::Duration::from_secs(2);

#[derive(Serialize, Deserialize)]
struct Envelope<T> {
    origin: String,
    events: Vec<T>,
    /// An outbox event too large to travel inline (then `events` is empty).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stored_event: Option<String>,
}

/// Sends locally published events to the other replicas until `stop`.
pub async fn forward(
    store: Store,
    origin: String,
    mut outgoing: mpsc::Receiver<Arc<BusEvent>>,
    stop: CancellationToken,
) {
    let mut peers = false;
    let mut checked: Option<std::time::Instant> = None;
    loop {
        let first = tokio::select! {
            () = stop.cancelled() => return,
            event = outgoing.recv() => match event {
                Some(event) => event,
                None => return,
            },
        };
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH
            && let Ok(event) = outgoing.try_recv()
        {
            batch.push(event);
        }
        if checked.is_none_or(|at| at.elapsed() >= PEER_CHECK) {
            // Our own listener is one of them.
            peers = pg::listeners(&store, CHANNEL)
                .await
                .map_or(true, |count| count > 1);
            checked = Some(std::time::Instant::now());
        }
        if !peers {
            continue;
        }
        for payload in payloads(&origin, &batch) {
            if let Err(err) = pg::notify(&store, CHANNEL, &payload).await {
                tracing::debug!(error = %err, "relaying live events failed");
            }
        }
    }
}

/// Packs events into notification payloads under the size limit, in order.
fn payloads(origin: &str, events: &[Arc<BusEvent>]) -> Vec<String> {
    let encode = |events: &[&BusEvent], stored_event: Option<String>| {
        serde_json::to_string(&Envelope {
            origin: origin.to_owned(),
            events: events.to_vec(),
            stored_event,
        })
        .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut pending: Vec<&BusEvent> = Vec::new();
    for event in events {
        pending.push(event);
        if encode(&pending, None).len() > MAX_PAYLOAD {
            pending.pop();
            if !pending.is_empty() {
                out.push(encode(&pending, None));
            }
            pending = vec![event];
            if encode(&pending, None).len() > MAX_PAYLOAD {
                pending.clear();
                match &**event {
                    BusEvent::Event(row) => out.push(encode(&[], Some(row.id.clone()))),
                    _ => tracing::debug!(
                        "a live event is too large to relay; other replicas skip it"
                    ),
                }
            }
        }
    }
    if !pending.is_empty() {
        out.push(encode(&pending, None));
    }
    out
}

/// Publishes what other replicas relayed (ignoring this replica's own), one notification
/// after another, until the listener stops: an outbox event sent by reference is read
/// from the store before anything after it is published.
pub async fn receive(
    store: Store,
    bus: EventBus,
    origin: String,
    mut incoming: mpsc::UnboundedReceiver<String>,
) {
    while let Some(payload) = incoming.recv().await {
        let envelope = match serde_json::from_str::<Envelope<BusEvent>>(&payload) {
            Ok(envelope) if envelope.origin != origin => envelope,
            Ok(_) => continue,
            Err(err) => {
                tracing::debug!(error = %err, "an unreadable relayed event was skipped");
                continue;
            }
        };
        for event in envelope.events {
            bus.publish_remote(event);
        }
        if let Some(id) = envelope.stored_event {
            match crate::store::events::get(&store, &id).await {
                Ok(Some(row)) => bus.publish_remote(BusEvent::Event(Box::new(row))),
                Ok(None) => {}
                Err(err) => {
                    tracing::warn!(error = %err, event = %id, "reading a relayed event failed; live subscribers here miss it")
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::logs::LogRow;

    fn log(size: usize) -> Arc<BusEvent> {
        Arc::new(BusEvent::Log(Box::new(LogRow {
            id: crate::ids::new_id(crate::ids::IdKind::Log),
            project_id: "prj_a".into(),
            integration_id: None,
            level: "INFO".into(),
            level_rank: 1,
            message: "x".repeat(size),
            metadata: "{}".into(),
            created_at: crate::store::now(),
        })))
    }

    #[test]
    fn batches_stay_under_the_limit_and_oversized_events_are_skipped() {
        let big_event = Arc::new(BusEvent::Event(Box::new(crate::store::events::EventRow {
            id: "evt_big".into(),
            project_id: "prj_a".into(),
            event_type: "custom.big".into(),
            payload: "x".repeat(20_000),
            dispatched: true,
            dedupe_key: None,
            created_at: crate::store::now(),
        })));
        let events: Vec<_> = (0..50)
            .map(|_| log(500))
            .chain([log(10_000), big_event, log(10)])
            .collect();
        let payloads = payloads("me", &events);
        assert!(payloads.len() > 1);
        assert!(payloads.iter().all(|p| p.len() <= MAX_PAYLOAD));
        let relayed: usize = payloads
            .iter()
            .map(|p| {
                serde_json::from_str::<Envelope<BusEvent>>(p)
                    .unwrap()
                    .events
                    .len()
            })
            .sum();
        assert_eq!(relayed, 51, "every small one, the huge log entry skipped");
        // The oversized outbox event goes by reference, in its place: before the last log.
        let last_two: Vec<Envelope<BusEvent>> = payloads[payloads.len() - 2..]
            .iter()
            .map(|p| serde_json::from_str(p).unwrap())
            .collect();
        assert_eq!(last_two[0].stored_event.as_deref(), Some("evt_big"));
        assert!(last_two[0].events.is_empty());
        assert_eq!(last_two[1].events.len(), 1);
    }
}
