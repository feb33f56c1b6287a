//! Identical live subscriptions share one execution (as Hasura multiplexes its live
//! queries). Ten thousand dashboards watching `healthChanged` with the same token, query
//! and variables would otherwise resolve every change ten thousand times; here it is
//! resolved once and each subscriber gets a copy of the response.
//!
//! Only the bus-driven subscriptions are shared: they yield nothing when they start, so
//! joining a running execution misses nothing. `stats`, which answers at once, and
//! queries or mutations sent over the socket run per subscriber, as before.
//!
//! Each subscriber still has its own bounded buffer: one that falls behind gets the
//! LAGGED error (with how many responses it missed) and its stream ends, while the others
//! go on.

use std::any::TypeId;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection};
use async_graphql::{Data, Executor, Request, Response};
use futures_util::stream::{BoxStream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::PatchbaySchema;
use crate::domain::access::Caller;

/// Subscription fields that only stream what happens after they start.
const SHAREABLE_FIELDS: &[&str] = &[
    "logs",
    "executions",
    "deliveries",
    "events",
    "healthChanged",
    "alerts",
    "syncProgress",
];

/// What makes two subscriptions the same: who asks (the token, its role and scope: what
/// they may see) and exactly what they ask.
#[derive(Clone, PartialEq, Eq, Hash)]
struct GroupKey {
    token_id: Option<String>,
    role: String,
    project_id: Option<String>,
    query: String,
    operation_name: Option<String>,
    variables: String,
}

type Groups = Arc<Mutex<HashMap<GroupKey, Group>>>;

struct Group {
    id: u64,
    sender: broadcast::Sender<Arc<Response>>,
}

/// The schema as the WebSocket transport runs it, sharing identical live subscriptions.
#[derive(Clone)]
pub struct SharedSubscriptions {
    schema: PatchbaySchema,
    groups: Groups,
    next_id: Arc<AtomicU64>,
    /// Subscribers of shared executions, open now.
    sharing: Arc<AtomicUsize>,
    /// Responses a subscriber may fall behind before it lags.
    buffer: usize,
}

impl SharedSubscriptions {
    pub fn new(schema: PatchbaySchema, buffer: usize) -> Self {
        SharedSubscriptions {
            schema,
            groups: Arc::default(),
            next_id: Arc::default(),
            sharing: Arc::default(),
            buffer: buffer.max(16),
        }
    }

    /// Open subscription streams, counting each subscriber of a shared execution, given
    /// the bus's subscriber count (a shared execution holds one bus subscription).
    pub fn open_streams(&self, bus_subscribers: usize) -> usize {
        let executions = self.groups.lock().map_or(0, |groups| groups.len());
        bus_subscribers.saturating_sub(executions) + self.sharing.load(Ordering::Relaxed)
    }

    fn key(request: &Request, session: Option<&Data>) -> Option<GroupKey> {
        let caller = session?
            .get(&TypeId::of::<Caller>())?
            .downcast_ref::<Caller>()?;
        if !shareable(request) {
            return None;
        }
        let principal = &caller.principal;
        Some(GroupKey {
            token_id: principal.token_id.clone(),
            role: format!("{:?}", principal.role),
            project_id: principal.project_id.clone(),
            query: request.query.clone(),
            operation_name: request.operation_name.clone(),
            variables: serde_json::to_string(&request.variables).ok()?,
        })
    }

    /// A receiver of the group for `key`, starting its execution if none runs.
    fn join(
        &self,
        key: GroupKey,
        request: Request,
        session: Option<Arc<Data>>,
    ) -> broadcast::Receiver<Arc<Response>> {
        let Ok(mut groups) = self.groups.lock() else {
            // A panicked holder poisoned the map: run unshared rather than fail.
            let (sender, receiver) = broadcast::channel(self.buffer);
            tokio::spawn(drive(
                Executor::execute_stream(&self.schema, request, session),
                sender,
                None,
            ));
            return receiver;
        };
        if let Some(group) = groups.get(&key) {
            return group.sender.subscribe();
        }
        let (sender, receiver) = broadcast::channel(self.buffer);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        groups.insert(
            key.clone(),
            Group {
                id,
                sender: sender.clone(),
            },
        );
        drop(groups);
        tokio::spawn(drive(
            Executor::execute_stream(&self.schema, request, session),
            sender,
            Some((self.groups.clone(), key, id)),
        ));
        receiver
    }
}

/// Runs one shared execution until it ends or nobody listens, then leaves the map (before
/// its sender goes, so nobody joins an execution that has ended).
async fn drive(
    mut upstream: BoxStream<'static, Response>,
    sender: broadcast::Sender<Arc<Response>>,
    membership: Option<(Groups, GroupKey, u64)>,
) {
    loop {
        tokio::select! {
            response = upstream.next() => match response {
                Some(response) => {
                    if sender.send(Arc::new(response)).is_err() {
                        break;
                    }
                }
                None => break,
            },
            () = sender.closed() => break,
        }
    }
    if let Some((groups, key, id)) = membership
        && let Ok(mut groups) = groups.lock()
        && groups.get(&key).is_some_and(|group| group.id == id)
    {
        groups.remove(&key);
    }
}

/// A subscription whose root fields all stream only what happens after they start.
fn shareable(request: &Request) -> bool {
    let Ok(document) = async_graphql::parser::parse_query(&request.query) else {
        return false;
    };
    let operation = match (&document.operations, request.operation_name.as_deref()) {
        (DocumentOperations::Single(operation), None) => operation,
        (DocumentOperations::Multiple(operations), Some(name)) => match operations.get(name) {
            Some(operation) => operation,
            None => return false,
        },
        _ => return false,
    };
    let operation = &operation.node;
    operation.ty == OperationType::Subscription
        && !operation.selection_set.node.items.is_empty()
        && operation
            .selection_set
            .node
            .items
            .iter()
            .all(|selection| match &selection.node {
                Selection::Field(field) => {
                    SHAREABLE_FIELDS.contains(&field.node.name.node.as_str())
                        && field.node.directives.is_empty()
                }
                _ => false,
            })
}

/// A copy of a shared response for one subscriber.
fn copy(response: &Response) -> Response {
    let mut out = Response::new(response.data.clone());
    out.errors = response.errors.clone();
    out.extensions = response.extensions.clone();
    out
}

/// Counts a shared subscriber while its stream lives.
struct OpenStream(Arc<AtomicUsize>);

impl OpenStream {
    fn new(count: Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::Relaxed);
        OpenStream(count)
    }
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Executor for SharedSubscriptions {
    async fn execute(&self, request: Request) -> Response {
        self.schema.execute(request).await
    }

    fn execute_stream(
        &self,
        request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        let Some(key) = Self::key(&request, session_data.as_deref()) else {
            return Executor::execute_stream(&self.schema, request, session_data);
        };
        let receiver = self.join(key, request, session_data);
        let open = OpenStream::new(self.sharing.clone());
        BroadcastStream::new(receiver)
            .map(|item| match item {
                Ok(response) => (copy(&response), false),
                Err(BroadcastStreamRecvError::Lagged(missed)) => (
                    Response::from_errors(vec![
                        super::lagged(missed).into_server_error(Default::default()),
                    ]),
                    true,
                ),
            })
            // A subscriber that fell behind ends after its LAGGED error (a shared
            // execution that ends, ends every subscriber's stream with it).
            .scan(false, move |ended, (response, lagged)| {
                let _open = &open;
                if *ended {
                    return futures_util::future::ready(None);
                }
                *ended = lagged;
                futures_util::future::ready(Some(response))
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_live_event_subscriptions_are_shared() {
        let shared = |query: &str, name: Option<&str>| {
            let mut request = Request::new(query);
            if let Some(name) = name {
                request = request.operation_name(name);
            }
            shareable(&request)
        };
        assert!(shared("subscription { healthChanged { current } }", None));
        assert!(shared(
            "subscription A { alerts { transition } } query B { viewer { name } }",
            Some("A")
        ));
        assert!(!shared("subscription { stats { integrations } }", None));
        assert!(!shared(
            "subscription { healthChanged { current } stats { integrations } }",
            None
        ));
        assert!(!shared("query { viewer { name } }", None));
        assert!(!shared(
            "subscription { ...F } fragment F on Subscription { logs { message } }",
            None
        ));
        assert!(!shared(
            "subscription { healthChanged @include(if: true) { current } }",
            None
        ));
        assert!(!shared("subscription {", None));
        assert!(!shared(
            "subscription A { alerts { transition } } subscription B { logs { message } }",
            None
        ));
    }
}
