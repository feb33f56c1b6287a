//! The web client (`web-client/dist`, built by Vite and checked in), embedded in the
//! binary: the dashboard at `/` and its client routes, GraphiQL at `/graphiql.html` and
//! for browsers at `/graphql`. Hashed assets are cached for a year; HTML is revalidated
//! so a new binary's assets are picked up at once. HTML pages carry a CSP without inline
//! scripts (the pages have none), and every answer here is `nosniff`.

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use http::header::{
    ACCEPT, CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use http::{HeaderValue, Method, StatusCode};

/// The built web client. In debug builds rust-embed reads the folder at run time; release
/// builds carry the files.
#[derive(rust_embed::Embed)]
#[folder = "web-client/dist/"]
struct WebClient;

/// What the pages may load: only this origin's scripts, styles (inline style attributes
/// included), images, and GraphQL over HTTP and WebSocket; never framed.
pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: https:; connect-src 'self' ws: wss:; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'self'";

/// Paths that belong to the server, never to the dashboard's client routes.
const SERVER_PATHS: &[&str] = &[
    "/graphql", "/hooks/", "/healthz", "/readyz", "/metrics", "/assets/", "/oauth/",
];

/// A file of the web client, or 404.
fn file(path: &str, request_headers: &http::HeaderMap) -> Response {
    let Some(found) = WebClient::get(path) else {
        return not_found();
    };
    let etag = format!("\"{}\"", hex::encode(&found.metadata.sha256_hash()[..16]));
    let html = path.ends_with(".html");
    let cache = if path.starts_with("assets/") {
        // Content-hashed names: a changed file is a new name.
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut response = if request_headers
        .get(IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut response = Response::new(Body::from(found.data.into_owned()));
        if let Ok(value) = HeaderValue::from_str(found.metadata.mimetype()) {
            response.headers_mut().insert(CONTENT_TYPE, value);
        }
        response
    };
    let headers = response.headers_mut();
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, value);
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    if html {
        html_security_headers(headers);
    }
    response
}

/// The headers every HTML page of the server carries (the dashboard's and the OAuth2
/// callback's): the CSP, never framed, no referrer.
pub(super) fn html_security_headers(headers: &mut http::HeaderMap) {
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CSP));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("no-referrer"));
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"))],
        "not found",
    )
        .into_response()
}

/// GraphiQL, for a browser's GET of `/graphql`.
pub fn graphiql(request_headers: &http::HeaderMap) -> Response {
    file("graphiql.html", request_headers)
}

/// GET `/assets/…`, `/favicon.svg`, `/graphiql.html`, `/`, and the dashboard's client
/// routes (any other GET of a page): the router's fallback.
pub async fn serve(request: Request) -> Response {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return not_found();
    }
    let path = request.uri().path();
    let headers = request.headers();
    if path == "/" {
        return file("index.html", headers);
    }
    let relative = path.trim_start_matches('/');
    if WebClient::get(relative).is_some() {
        return file(relative, headers);
    }
    let wants_page = headers
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/html"));
    let server_path = SERVER_PATHS
        .iter()
        .any(|p| path == p.trim_end_matches('/') || path.starts_with(p));
    if wants_page && !server_path {
        return file("index.html", headers);
    }
    not_found()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_built_client_is_there_with_both_pages() {
        assert!(WebClient::get("index.html").is_some());
        assert!(WebClient::get("graphiql.html").is_some());
        let index = WebClient::get("index.html").unwrap();
        let text = String::from_utf8_lossy(&index.data);
        // The CSP forbids inline scripts: every script is a file.
        assert!(
            !text.contains("<script>") && text.contains("<script"),
            "{text}"
        );
    }
}
