//! The GraphQL API: one schema assembled from a root per domain.
//!
//! Request data carries the authenticated [`Caller`]; schema data carries the [`App`]
//! and the data loaders. The HTTP and WebSocket transports live in `crate::http`.

mod connection;
mod credentials;
mod executions;
mod integrations;
mod logs;
mod node;
mod projects;
pub mod request_errors;
mod viewer;
mod webhooks;

use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, MergedObject, MergedSubscription, Schema, SchemaBuilder};

use crate::app::App;
use crate::domain::access::Caller;
use crate::error::{AppError, AppResult};

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
);

/// The subscription root.
#[derive(MergedSubscription, Default)]
pub struct Subscription(
    logs::LogSubscription,
    executions::ExecutionSubscription,
    webhooks::DeliverySubscription,
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
    build_with(app, false)
}

/// The schema for WebSocket operations: the same, plus an extension that gives request
/// errors their codes (HTTP does that on its error path; a socket has no such place, and
/// the extension's per-field cost matters little for subscriptions).
pub fn build_for_websocket(app: Arc<App>) -> PatchbaySchema {
    build_with(app, true)
}

fn build_with(app: Arc<App>, websocket: bool) -> PatchbaySchema {
    let config = &app.config;
    let mut builder = builder()
        .limit_depth(config.max_query_depth)
        .limit_complexity(config.max_query_complexity)
        .limit_recursive_depth(64)
        .limit_directives(20)
        .data(DataLoader::new(
            projects::ProjectLoader(app.store.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            logs::IntegrationLoader(app.store.clone()),
            tokio::spawn,
        ))
        .data(DataLoader::new(
            credentials::CredentialsLoader(app.store.clone()),
            tokio::spawn,
        ));
    if !config.introspection {
        builder = builder.disable_introspection();
    }
    if websocket {
        builder = builder.extension(request_errors::RequestErrorCodes);
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

/// The error a subscription stream yields when its subscriber fell behind the bus.
pub(crate) fn lagged(missed: u64) -> async_graphql::Error {
    use async_graphql::ErrorExtensions;
    async_graphql::Error::new(format!(
        "this subscriber fell behind; {missed} events were skipped"
    ))
    .extend_with(|_, e| e.set("code", "LAGGED"))
}
