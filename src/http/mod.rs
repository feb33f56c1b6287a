//! HTTP routes: `/graphql` (POST, GET, WebSocket, GraphiQL), `/hooks/{id}`, `/healthz`,
//! `/readyz`, `/metrics`, `/oauth/callback`, and the embedded web client (the dashboard at `/`).

mod dashboard;
mod graphql;
mod health;
mod hooks;
mod metrics;
mod negotiate;
mod oauth;
mod ws;

use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http::header::{ACCEPT, UPGRADE};
use http::{HeaderMap, HeaderName, StatusCode};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;
use crate::graphql::PatchbaySchema;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// State shared by the handlers.
#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    pub schema: PatchbaySchema,
    /// The same schema, validating only what depends on limits: for operations that
    /// already passed full validation (see `graphql::ParsedDocument`).
    pub prevalidated_schema: PatchbaySchema,
    /// The schema WebSocket operations run on (with request-error codes), sharing
    /// identical live subscriptions.
    pub ws_schema: crate::graphql::multiplex::SharedSubscriptions,
    pub documents: Arc<graphql::DocumentCache>,
}

/// The request id set by the request-id layer (or sent by the client).
pub(crate) fn request_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get(&REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

/// The whole HTTP surface of the server.
pub fn router(app: Arc<App>) -> Router {
    let schema = crate::graphql::build(app.clone());
    let ws_schema = crate::graphql::multiplex::SharedSubscriptions::new(
        crate::graphql::build_for_websocket(app.clone()),
        app.config.event_buffer,
    );
    let max_body = app.config.max_body_bytes;
    let timeout = app.config.request_timeout;
    let prevalidated_schema = crate::graphql::build_prevalidated(app.clone());
    let state = AppState {
        app,
        schema,
        prevalidated_schema,
        ws_schema,
        documents: Arc::new(graphql::DocumentCache::new(16 * 1024 * 1024)),
    };
    let serves_api = state.app.config.roles.api;
    let probes = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(metrics::metrics));
    let routes = if serves_api {
        probes
            .route("/graphql", get(graphql_get).post(graphql::post))
            .route(
                "/hooks/{integration_id}",
                axum::routing::post(hooks::receive),
            )
            .route("/oauth/callback", get(oauth::callback))
            .fallback(dashboard::serve)
    } else {
        probes.fallback(worker_only)
    };
    routes
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::track,
        ))
        .with_state(state)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            timeout,
        ))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &Request| {
                tracing::info_span!(
                    "request",
                    method = %request.method(),
                    path = %request.uri().path(),
                    request_id = request_id(request.headers()).unwrap_or_default(),
                )
            }),
        )
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// Anything but the probes on a worker-only replica (`--worker`).
async fn worker_only() -> Response {
    (
        StatusCode::NOT_FOUND,
        "this replica runs background workers only (--worker): the API is served by the --api replicas\n",
    )
        .into_response()
}

/// GET /graphql: a WebSocket upgrade, a browser wanting GraphiQL, or a query.
async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    let is_upgrade = parts
        .headers
        .get(UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if is_upgrade {
        return ws::upgrade(state, &mut parts).await;
    }
    let raw_query = parts.uri.query();
    let has_query = raw_query
        .is_some_and(|q| url::form_urlencoded::parse(q.as_bytes()).any(|(k, _)| k == "query"));
    let wants_html = parts
        .headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    if wants_html && !has_query {
        return dashboard::graphiql(&parts.headers);
    }
    graphql::get(&state, &parts.headers, raw_query).await
}
