//! `GET /oauth/callback`: where providers send the browser after an OAuth2 authorization.
//! A known, fresh, unused state goes back to the caller's page with a 303 (`oauth=connected`
//! or `oauth=error&reason=…`); anything else ends on a small HTML page saying what went
//! wrong (400, or 500 for patchbay's own failures), with the dashboard's security headers
//! and nothing secret. Neither answer is cached, and neither sends a referrer (the URL
//! carried a code).

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION, REFERRER_POLICY};
use http::{HeaderValue, StatusCode};

use super::AppState;
use super::dashboard::html_security_headers;
use crate::domain::oauth::{self, CallbackError, CallbackParams};

pub async fn callback(State(state): State<AppState>, RawQuery(query): RawQuery) -> Response {
    // Read leniently (first value of each name wins): a malformed query is a missing state.
    let mut params = CallbackParams::default();
    for (name, value) in url::form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
        let slot = match name.as_ref() {
            "code" => &mut params.code,
            "state" => &mut params.state,
            "error" => &mut params.error,
            _ => continue,
        };
        if slot.is_none() {
            *slot = Some(value.into_owned());
        }
    }
    match oauth::callback(&state.app, params).await {
        Ok(location) => match HeaderValue::from_str(&location) {
            Ok(location) => {
                let mut response = StatusCode::SEE_OTHER.into_response();
                let headers = response.headers_mut();
                headers.insert(LOCATION, location);
                headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
                headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
                response
            }
            Err(_) => page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The page to return to cannot be used.",
            ),
        },
        Err(err) => {
            let status = match &err {
                CallbackError::Internal(cause) => {
                    tracing::error!(error = format!("{cause:#}"), "OAuth2 callback failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
                _ => StatusCode::BAD_REQUEST,
            };
            page(status, &err.to_string())
        }
    }
}

/// A small error page (the message is one of ours, escaped anyway).
fn page(status: StatusCode, message: &str) -> Response {
    let escaped = message
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;");
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>patchbay: connection failed</title></head>\n<body><h1>Connecting the integration failed</h1>\n<p>{escaped}</p>\n<p><a href=\"/\">Back to patchbay</a></p></body></html>\n"
    );
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    html_security_headers(headers);
    response
}
