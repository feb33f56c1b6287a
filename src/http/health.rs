//! Liveness and readiness probes.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::json;

use super::AppState;

/// `/healthz`: the process is up and serving.
pub async fn healthz() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// `/readyz`: the store answers and its migrations are current.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let store = &state.app.store;
    let (store_ok, migrations_ok) = match store.migrations_current().await {
        Ok(current) => (true, current),
        Err(err) => {
            tracing::warn!(error = %err, "readiness check: store unavailable");
            (false, false)
        }
    };
    let ready = store_ok && migrations_ok;
    let body = json!({
        "status": if ready { "ready" } else { "unavailable" },
        "checks": { "store": store_ok, "migrations": migrations_ok },
    });
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}
