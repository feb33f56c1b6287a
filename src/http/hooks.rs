//! `POST /hooks/{integrationId}`: a provider's webhook in. 202 once the event is stored
//! (200 for a replay of a stored delivery), 401 for a bad or stale signature, 404 for an
//! unknown integration, 413 above the body limit; nothing is stored for a refusal.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, StatusCode};

use super::AppState;
use crate::domain::incoming::{self, Rejection};

pub async fn receive(
    State(state): State<AppState>,
    Path(integration_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match incoming::receive(&state.app, &integration_id, &headers, &body).await {
        Ok(received) => (
            if received.duplicate {
                StatusCode::OK
            } else {
                StatusCode::ACCEPTED
            },
            axum::Json(serde_json::json!({
                "eventId": received.event_id,
                "type": received.event_type,
                "duplicate": received.duplicate,
            })),
        )
            .into_response(),
        Err(rejection) => {
            let status = match &rejection {
                Rejection::NotFound => StatusCode::NOT_FOUND,
                Rejection::Unauthorized(_) => StatusCode::UNAUTHORIZED,
                Rejection::Internal(cause) => {
                    tracing::error!(error = format!("{cause:#}"), "incoming webhook failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            (
                status,
                axum::Json(serde_json::json!({ "error": rejection.to_string() })),
            )
                .into_response()
        }
    }
}
