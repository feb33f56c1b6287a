//! `GET /metrics`: Prometheus text exposition, off the authenticated API (optionally behind
//! its own bearer token), and the middleware that counts and times every HTTP request.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret;

use super::AppState;

/// Counts and times a request under its route pattern (`/hooks/{integration_id}`, not the ID).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "static".to_owned(), |p| p.as_str().to_owned());
    let method = request.method().as_str().to_owned();
    let started = Instant::now();
    let response = next.run(request).await;
    state.app.telemetry.http_request(
        &route,
        &method,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

fn authorized(state: &AppState, headers: &HeaderMap) -> bool {
    let Some(token) = &state.app.config.metrics_token else {
        return true;
    };
    let given = headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    let expected = token.expose_secret().as_bytes();
    given.len() == expected.len()
        && given
            .as_bytes()
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    if !authorized(&state, &headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(http::header::WWW_AUTHENTICATE, "Bearer")],
            "a metrics token is required",
        )
            .into_response();
    }
    let app = &state.app;
    let telemetry = &app.telemetry;
    telemetry
        .subscriptions_open
        .set(state.ws_schema.open_streams(app.events.subscriber_count()) as i64);
    telemetry.dispatch_leader.set(i64::from(
        app.workers
            .dispatch_leader
            .load(std::sync::atomic::Ordering::Relaxed),
    ));
    match crate::store::health::status_counts(&app.store, None).await {
        Ok(counts) => {
            for status in ["HEALTHY", "DEGRADED", "UNHEALTHY", "UNKNOWN"] {
                let count = counts
                    .iter()
                    .find(|(s, _)| s == status)
                    .map_or(0, |(_, n)| *n);
                telemetry
                    .health_status
                    .get_or_create(&vec![("status", status.to_owned())])
                    .set(count);
            }
        }
        Err(err) => tracing::warn!(error = %err, "reading health counts for /metrics failed"),
    }
    let now = crate::store::now();
    match crate::store::jobs::queue_depth(&app.store, now).await {
        Ok(kinds) => {
            telemetry.jobs_queued.clear();
            telemetry.jobs_oldest_age.clear();
            for (kind, count, oldest) in kinds {
                telemetry
                    .jobs_queued
                    .get_or_create(&vec![("kind", kind.clone())])
                    .set(count);
                let age = oldest.map_or(0.0, |at| {
                    (now - at).num_milliseconds().max(0) as f64 / 1000.0
                });
                telemetry
                    .jobs_oldest_age
                    .get_or_create(&vec![("kind", kind)])
                    .set(age);
            }
        }
        Err(err) => tracing::warn!(error = %err, "reading the job queue for /metrics failed"),
    }
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        telemetry.render(),
    )
        .into_response()
}
