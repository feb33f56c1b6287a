//! The GraphQL API: one schema assembled from a root per domain.
//!
//! Request data carries the authenticated [`Caller`]; schema data carries the [`App`]
//! and the data loaders. The HTTP and WebSocket transports live in `crate::http`.

mod alerts;
mod audit;
mod compare;
pub mod compiled;
mod connection;
mod credentials;
pub mod errors;
mod events;
mod executions;
mod health;
mod integrations;
mod loaders;
mod logs;
pub mod multiplex;
mod node;
mod oauth;
mod projects;
pub mod request_errors;
mod stats;
mod syncs;
mod templates;
mod viewer;
mod webhooks;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{
    Context, MergedObject, MergedSubscription, Schema, SchemaBuilder, ValidationMode,
};

use crate::app::App;
use crate::domain::access::Caller;
use crate::error::{AppError, AppResult};

// Root resolvers whose domain call is a large future await it `.boxed()`: a merged root's
// `resolve_field` future is as large as its largest field's, and async-graphql allocates
// and copies that whole future for every root field of every request. One mutation that
// awaited a transaction inline made each 50-row list query allocate and copy ~23 KB
// (`-Zprint-type-sizes`; `callgrind`: 23k instructions of `memcpy` per request).
/// The query root.
#[derive(MergedObject, Default)]
pub struct Query(
    node::NodeQuery,
    viewer::ViewerQuery,
    projects::ProjectQuery,
    integrations::IntegrationQuery,
    logs::LogQuery,
    credentials::CredentialQuery,
    webhooks::WebhookQuery,
    alerts::AlertQuery,
    audit::AuditQuery,
    stats::StatsQuery,
    templates::TemplateQuery,
    compare::CompareQuery,
    syncs::SyncQuery,
);

/// The mutation root.
#[derive(MergedObject, Default)]
pub struct Mutation(
    projects::ProjectMutation,
    integrations::IntegrationMutation,
    viewer::TokenMutation,
    credentials::CredentialMutation,
    executions::ExecutionMutation,
    webhooks::WebhookMutation,
    health::HealthMutation,
    alerts::AlertMutation,
    templates::TemplateMutation,
    oauth::OAuthMutation,
    syncs::SyncMutation,
);

/// The subscription root.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    logs::LogSubscription,
    executions::ExecutionSubscription,
    webhooks::DeliverySubscription,
    events::EventSubscription,
    health::HealthSubscription,
    alerts::AlertSubscription,
    stats::StatsSubscription,
    syncs::SyncSubscription,
);

pub type PatchbaySchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
}

/// The schema with the application's limits and data.
pub fn build(app: Arc<App>) -> PatchbaySchema {
    build_with(app, Mode::Http)
}

/// The schema for operations whose document and operation already passed full
/// validation without variables: async-graphql's fast mode, which still checks the
/// depth, complexity and fragment-cycle limits but not the rules an earlier run passed.
pub fn build_prevalidated(app: Arc<App>) -> PatchbaySchema {
    build_with(app, Mode::Prevalidated)
}

/// The schema for WebSocket operations: the same, plus an extension that gives request
/// errors their codes (HTTP does that on its error path; a socket has no such place, and
/// the extension's per-field cost matters little for subscriptions).
pub fn build_for_websocket(app: Arc<App>) -> PatchbaySchema {
    build_with(app, Mode::WebSocket)
}

/// What a schema is built for.
enum Mode {
    Http,
    Prevalidated,
    WebSocket,
}

fn build_with(app: Arc<App>, mode: Mode) -> PatchbaySchema {
    let config = &app.config;
    let mut builder = builder()
        .limit_depth(config.max_query_depth)
        .limit_complexity(config.max_query_complexity)
        .limit_recursive_depth(64)
        .limit_directives(20)
        .data(DataLoader::new(
            loaders::ProjectLoader(app.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            loaders::IntegrationLoader(app.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            loaders::TemplateLoader(app.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            loaders::CredentialsLoader(app.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            loaders::HealthStateLoader(app.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            loaders::HealthFiguresLoader(app.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            loaders::AlertRuleLoader(app.clone()),
            tokio::spawn,
        ));
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    match mode {
        Mode::Http => {}
        Mode::Prevalidated => builder = builder.validation_mode(ValidationMode::Fast),
        Mode::WebSocket => builder = builder.extension(request_errors::RequestErrorCodes),
    }
    builder.data(app).finish()
}

/// The schema in SDL, as checked in at `schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

pub(crate) fn app<'a>(ctx: &Context<'a>) -> &'a Arc<App> {
    ctx.data_unchecked::<Arc<App>>()
}

pub(crate) fn caller<'a>(ctx: &Context<'a>) -> AppResult<&'a Caller> {
    ctx.data::<Caller>()
        .map_err(|_| AppError::Unauthenticated("authentication required".to_owned()))
}

/// A subscription stream over the bus: `select` picks (and shapes) the events this
/// subscriber wants. The bus buffer per subscriber is bounded; a subscriber that falls
/// behind gets one LAGGED error saying how many events it missed, and the stream ends
/// (a slow subscriber never slows the others; the client resubscribes and catches up
/// from the store).
pub(crate) fn live<T, F>(
    receiver: tokio::sync::broadcast::Receiver<Arc<crate::events::BusEvent>>,
    mut select: F,
) -> impl futures_util::Stream<Item = async_graphql::Result<T>> + Send + 'static
where
    T: Send + 'static,
    F: FnMut(&crate::events::BusEvent) -> Option<T> + Send + 'static,
{
    use futures_util::StreamExt;
    use futures_util::future::ready;
    use tokio_stream::wrappers::BroadcastStream;
    use tokio_stream::wrappers::errors::BroadcastStreamRecvError;
    BroadcastStream::new(receiver)
        .map(move |event| match event {
            Ok(event) => select(&event).map(Ok),
            Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Err(lagged(missed))),
        })
        .scan(false, |ended, item| {
            if *ended {
                return ready(None);
            }
            *ended = matches!(item, Some(Err(_)));
            ready(Some(item))
        })
        .filter_map(ready)
}

/// The error a subscription stream yields when its subscriber fell behind the bus.
pub(crate) fn lagged(missed: u64) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::new(format!(
        "this subscriber fell behind and missed {missed} events; the stream ends here: subscribe again (and read what was missed from the matching query)"
    ))
    .extend_with(|_, e| e.set("code", "LAGGED"))
}

#[cfg(test)]
mod tests {
    use async_graphql::Positioned;
    use async_graphql::parser::types::{
        FieldDefinition, InputValueDefinition, TypeKind, TypeSystemDefinition,
    };

    /// The first sentence of a description (up to the first `. ` or line end).
    fn first_sentence(text: &str) -> &str {
        let line = text.lines().next().unwrap_or_default().trim();
        line.split_once(". ").map_or(line, |(first, _)| first)
    }

    /// Field names with their descriptions.
    fn described<T: Named>(fields: &[Positioned<T>]) -> Vec<(String, Option<String>)> {
        fields
            .iter()
            .map(|f| (f.node.name().to_owned(), f.node.description()))
            .collect()
    }

    trait Named {
        fn name(&self) -> &str;
        fn description(&self) -> Option<String>;
    }

    impl Named for FieldDefinition {
        fn name(&self) -> &str {
            &self.name.node
        }
        fn description(&self) -> Option<String> {
            self.description.as_ref().map(|d| d.node.clone())
        }
    }

    impl Named for InputValueDefinition {
        fn name(&self) -> &str {
            &self.name.node
        }
        fn description(&self) -> Option<String> {
            self.description.as_ref().map(|d| d.node.clone())
        }
    }

    /// A doc comment left above the wrong field shows up as a description whose first
    /// sentence is another field's: no two fields of a type may share one.
    #[test]
    fn no_two_fields_of_a_type_share_a_first_sentence() {
        let document = async_graphql::parser::parse_schema(super::sdl()).unwrap();
        let mut problems = Vec::new();
        for definition in &document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let ty = &ty.node;
            let fields: Vec<(String, Option<String>)> = match &ty.kind {
                TypeKind::Object(o) => described(&o.fields),
                TypeKind::Interface(i) => described(&i.fields),
                TypeKind::InputObject(i) => described(&i.fields),
                _ => continue,
            };
            let mut seen: std::collections::HashMap<&str, &str> = std::collections::HashMap::new();
            for (name, description) in &fields {
                let Some(description) = description else {
                    continue;
                };
                let sentence = first_sentence(description);
                if let Some(other) = seen.insert(sentence, name) {
                    problems.push(format!(
                        "{}.{name} and {}.{other} both start with \"{sentence}\"",
                        ty.name.node, ty.name.node
                    ));
                }
            }
        }
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }

    /// A slow subscriber gets one LAGGED error with the count and its stream ends; a
    /// subscriber that keeps up is not affected.
    #[tokio::test]
    async fn a_slow_subscriber_is_told_it_lagged_and_others_are_not_slowed() {
        use futures_util::StreamExt;
        let bus = crate::events::EventBus::new(16);
        let slow = super::live(bus.subscribe(), |event| match event {
            crate::events::BusEvent::Log(row) => Some(row.message.clone()),
            _ => None,
        });
        let mut fast = super::live(bus.subscribe(), |event| match event {
            crate::events::BusEvent::Log(row) => Some(row.message.clone()),
            _ => None,
        });
        let log = |i: usize| {
            let entry = crate::domain::logs::LogEntry::new(
                "prj_a",
                None,
                crate::domain::logs::LogLevel::Info,
                i.to_string(),
                serde_json::json!({}),
            );
            crate::events::BusEvent::Log(Box::new(entry.to_row()))
        };
        for i in 0..40 {
            bus.publish(log(i));
            assert_eq!(fast.next().await.unwrap().unwrap(), i.to_string());
        }
        let items: Vec<_> = slow.collect::<Vec<_>>().await;
        // Ends after the error: nothing after it, however much was published.
        assert_eq!(items.len(), 1, "{items:?}");
        let error = items[0].as_ref().unwrap_err();
        assert!(
            error.message.contains("missed 24 events"),
            "{}",
            error.message
        );
        let code = error
            .extensions
            .as_ref()
            .and_then(|e| e.get("code"))
            .cloned();
        assert_eq!(code, Some(async_graphql::Value::from("LAGGED")));
    }

    #[test]
    fn first_sentences_are_cut_at_the_first_full_stop() {
        assert_eq!(
            first_sentence("The project's integrations.\nMore."),
            "The project's integrations."
        );
        assert_eq!(first_sentence("One. Two."), "One");
    }
}
