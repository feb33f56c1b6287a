//! Cross-replica fan-out: events published on this replica's bus are sent to the others
//! with PostgreSQL NOTIFY (batched, each notification under the 8000-byte limit), and
//! notifications from other replicas are published on the local bus, so a subscriber on
//! any replica sees what happened on every replica. Best effort for the live view: an
//! event too large for one notification is skipped (it is in the store), and nothing is
//! sent while no other replica listens (checked every few seconds), so a single server
//! on PostgreSQL pays nothing for it.

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

/// Packs events into notification payloads under the size limit.
fn payloads(origin: &str, events: &[Arc<BusEvent>]) -> Vec<String> {
    let encode = |events: &[&BusEvent]| {
        serde_json::to_string(&Envelope {
            origin: origin.to_owned(),
            events: events.to_vec(),
        })
        .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut pending: Vec<&BusEvent> = Vec::new();
    for event in events {
        pending.push(event);
        if encode(&pending).len() > MAX_PAYLOAD {
            pending.pop();
            if !pending.is_empty() {
                out.push(encode(&pending));
            }
            pending = vec![event];
            if encode(&pending).len() > MAX_PAYLOAD {
                tracing::debug!("a live event is too large to relay; other replicas skip it");
                pending.clear();
            }
        }
    }
    if !pending.is_empty() {
        out.push(encode(&pending));
    }
    out
}

/// Publishes events another replica relayed (ignoring this replica's own).
pub fn receive(bus: &EventBus, origin: &str, payload: &str) {
    match serde_json::from_str::<Envelope<BusEvent>>(payload) {
        Ok(envelope) if envelope.origin != origin => {
            for event in envelope.events {
                bus.publish_remote(event);
            }
        }
        Ok(_) => {}
        Err(err) => tracing::debug!(error = %err, "an unreadable relayed event was skipped"),
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
        let events: Vec<_> = (0..50).map(|_| log(500)).chain([log(10_000)]).collect();
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
        assert_eq!(relayed, 50);
    }
}
