//! OAuth2 connect end to end against a local fake provider (authorize, token with a PKCE
//! check, and an API that wants the issued token): the good flow then a call with the new
//! token, a denial, replayed, expired and unknown states, a failing token endpoint, and
//! who may start an authorization. No secret in any response, page or redirect.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Form, Query, State};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use base64::Engine;
use patchbay::domain::access::Role;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::on_both_backends;
use crate::support::{Backend, SECRET_MARKER, TestServer, code};

on_both_backends!(
    oauth_good_flow_then_a_call_with_the_new_token,
    oauth_denied_expired_and_unknown_states,
    oauth_token_endpoint_failure_goes_back_with_a_reason,
    oauth_start_is_checked_and_project_scoped
);

const START: &str = "mutation($i: StartOAuthInput!) { startOAuth(input: $i) { authorizeUrl state expiresAt integration { id } } }";
const RETURN_TO: &str = "https://app.example.com/integrations/settings?tab=auth";

/// What the fake provider remembers about one issued code.
struct Issued {
    challenge: String,
    redirect_uri: String,
    client_id: String,
}

#[derive(Default)]
struct ProviderState {
    codes: HashMap<String, Issued>,
    tokens: Vec<String>,
    token_calls: usize,
    fail_token: bool,
}

#[derive(Clone)]
struct Provider {
    url: String,
    state: Arc<Mutex<ProviderState>>,
}

async fn authorize(
    State(state): State<Arc<Mutex<ProviderState>>>,
    Query(q): Query<HashMap<String, String>>,
) -> axum::response::Response {
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["code_challenge_method"], "S256");
    let code = format!("code-{}", uuid::Uuid::new_v4().simple());
    state.lock().unwrap().codes.insert(
        code.clone(),
        Issued {
            challenge: q["code_challenge"].clone(),
            redirect_uri: q["redirect_uri"].clone(),
            client_id: q["client_id"].clone(),
        },
    );
    let mut back = url::Url::parse(&q["redirect_uri"]).unwrap();
    back.query_pairs_mut()
        .append_pair("code", &code)
        .append_pair("state", &q["state"]);
    (
        http::StatusCode::FOUND,
        [(http::header::LOCATION, back.to_string())],
    )
        .into_response()
}

async fn token(
    State(state): State<Arc<Mutex<ProviderState>>>,
    Form(form): Form<HashMap<String, String>>,
) -> axum::response::Response {
    let mut provider = state.lock().unwrap();
    provider.token_calls += 1;
    if provider.fail_token {
        return (
            http::StatusCode::BAD_GATEWAY,
            axum::Json(json!({ "error": "temporarily_unavailable" })),
        )
            .into_response();
    }
    let refuse = |why: &str| {
        (
            http::StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_grant", "error_description": why })),
        )
            .into_response()
    };
    if form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return refuse("grant_type");
    }
    let Some(issued) = form.get("code").and_then(|c| provider.codes.remove(c)) else {
        return refuse("unknown code");
    };
    let verifier = form.get("code_verifier").cloned().unwrap_or_default();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    if verifier.len() < 43 || challenge != issued.challenge {
        return refuse("PKCE verifier does not match the challenge");
    }
    if form.get("redirect_uri") != Some(&issued.redirect_uri)
        || form.get("client_id") != Some(&issued.client_id)
        || form.get("client_secret").map(String::as_str) != Some(&marked("client-secret"))
    {
        return refuse("client or redirect_uri");
    }
    let access = format!("at-{}-{SECRET_MARKER}", provider.tokens.len() + 1);
    provider.tokens.push(access.clone());
    axum::Json(json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": marked("rt"),
        "scope": "read write",
    }))
    .into_response()
}

async fn me(
    State(state): State<Arc<Mutex<ProviderState>>>,
    headers: http::HeaderMap,
) -> axum::response::Response {
    let sent = headers
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned);
    let known = sent.is_some_and(|t| state.lock().unwrap().tokens.contains(&t));
    if known {
        axum::Json(json!({ "login": "octocat" })).into_response()
    } else {
        http::StatusCode::UNAUTHORIZED.into_response()
    }
}

async fn provider() -> Provider {
    let state = Arc::new(Mutex::new(ProviderState::default()));
    let router = axum::Router::new()
        .route("/authorize", get(authorize))
        .route("/token", post(token))
        .route("/api/me", get(me))
        .with_state(state.clone());
    // Allowed by the test servers' `allow_private_networks` (support.rs).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    Provider { url, state }
}

fn marked(name: &str) -> String {
    format!("{name}-{SECRET_MARKER}")
}

/// A browser that does not follow redirects (the test follows them step by step).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// An integration calling the provider, with OAuth2 client credentials but no tokens yet.
async fn connected_integration(server: &TestServer, provider: &Provider, project: &str) -> String {
    let data = server
        .ok(
            &server.admin,
            "mutation($i: CreateIntegrationInput!) { createIntegration(input: $i) { integration { id } } }",
            json!({ "i": { "projectId": project, "name": format!("gh-{}", uuid::Uuid::new_v4().simple()), "category": "VERSION_CONTROL", "baseUrl": provider.url } }),
        )
        .await;
    let id = data["createIntegration"]["integration"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    server
        .ok(
            &server.admin,
            "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { id } } }",
            json!({ "i": { "integrationId": id, "credentials": { "oauth2": {
                "clientId": "patchbay-client", "clientSecret": marked("client-secret"),
                "tokenUrl": format!("{}/token", provider.url),
                "authorizeUrl": format!("{}/authorize", provider.url),
                "scopes": ["read"] } } } }),
        )
        .await;
    id
}

async fn start(server: &TestServer, token: &str, integration: &str) -> Value {
    let data = server
        .ok(
            token,
            START,
            json!({ "i": { "integrationId": integration, "redirectUri": RETURN_TO } }),
        )
        .await;
    data["startOAuth"].clone()
}

/// Visits the provider's authorize URL; returns the callback URL it redirects to.
async fn authorize_at_provider(authorize_url: &str) -> String {
    let response = browser().get(authorize_url).send().await.unwrap();
    assert_eq!(response.status(), 302);
    response.headers()[http::header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned()
}

/// Calls the callback like a browser; returns (status, Location or page, headers).
async fn visit(url: &str) -> (u16, String, http::HeaderMap) {
    let response = browser().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let shown = match headers.get(http::header::LOCATION) {
        Some(location) => location.to_str().unwrap().to_owned(),
        None => response.text().await.unwrap(),
    };
    assert!(
        !shown.contains(SECRET_MARKER),
        "a secret leaked from the callback: {shown}"
    );
    (status, shown, headers)
}

async fn logs(server: &TestServer, integration: &str) -> Vec<Value> {
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { logs(first: 50) { edges { node { level message metadata } } } } }",
            json!({ "id": integration }),
        )
        .await;
    data["integration"]["logs"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"].clone())
        .collect()
}

fn has_log(entries: &[Value], level: &str, message: &str) -> bool {
    entries
        .iter()
        .any(|e| e["level"] == level && e["message"].as_str().unwrap_or("").contains(message))
}

fn assert_error_page(status: u16, page: &str, headers: &http::HeaderMap, says: &str) {
    assert_eq!(status, 400, "{page}");
    assert!(page.contains(says), "{page}");
    assert!(
        headers[http::header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert_eq!(headers[http::header::X_FRAME_OPTIONS], "DENY");
    assert_eq!(headers[http::header::X_CONTENT_TYPE_OPTIONS], "nosniff");
    assert!(headers.contains_key(http::header::CONTENT_SECURITY_POLICY));
    assert_eq!(headers[http::header::CACHE_CONTROL], "no-store");
}

async fn oauth_good_flow_then_a_call_with_the_new_token(backend: Backend) {
    let server = TestServer::start(backend).await;
    let provider = provider().await;
    let project = server.create_project("OAuth").await;
    let id = connected_integration(&server, &provider, &project).await;

    // Before connecting, the API refuses the call (no access token to send).
    let exec =
        "mutation($i: ExecuteRequestInput!) { executeRequest(input: $i) { ok status body } }";
    let started = start(&server, &server.admin, &id).await;
    let authorize_url = url::Url::parse(started["authorizeUrl"].as_str().unwrap()).unwrap();
    assert!(
        authorize_url
            .as_str()
            .starts_with(&format!("{}/authorize?", provider.url))
    );
    let params: HashMap<String, String> = authorize_url.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], "patchbay-client");
    assert_eq!(
        params["redirect_uri"],
        format!("{}/oauth/callback", server.url)
    );
    assert_eq!(params["scope"], "read");
    assert_eq!(params["state"], started["state"].as_str().unwrap());
    assert_eq!(params["code_challenge_method"], "S256");
    assert_eq!(params["code_challenge"].len(), 43);
    let expires: chrono::DateTime<chrono::Utc> =
        started["expiresAt"].as_str().unwrap().parse().unwrap();
    let left = expires - chrono::Utc::now();
    assert!(left > chrono::Duration::minutes(9) && left <= chrono::Duration::minutes(10));

    // The provider sends the browser to the callback with a code; patchbay exchanges it
    // (the provider checks the PKCE verifier) and sends the browser back.
    let callback = authorize_at_provider(authorize_url.as_str()).await;
    assert!(callback.starts_with(&format!("{}/oauth/callback?", server.url)));
    let (status, location, headers) = visit(&callback).await;
    assert_eq!(status, 303, "{location}");
    assert_eq!(location, format!("{RETURN_TO}&oauth=connected"));
    assert_eq!(headers[http::header::REFERRER_POLICY], "no-referrer");
    assert_eq!(provider.state.lock().unwrap().token_calls, 1);

    // The new token is sealed as the integration's OAuth2 credentials and used by calls.
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { authKind credentials { kind setFields expiresAt } } }",
            json!({ "id": id }),
        )
        .await;
    let credentials = &data["integration"]["credentials"];
    assert_eq!(data["integration"]["authKind"], "OAUTH2");
    for field in [
        "clientId",
        "clientSecret",
        "accessToken",
        "refreshToken",
        "expiresAt",
        "scopes",
    ] {
        assert!(
            credentials["setFields"]
                .as_array()
                .unwrap()
                .contains(&json!(field)),
            "{credentials}"
        );
    }
    let body = server
        .gql(
            &server.admin,
            exec,
            json!({ "i": { "integrationId": id, "path": "/api/me" } }),
        )
        .await;
    assert!(body.get("errors").is_none(), "{body:#}");
    assert_eq!(body["data"]["executeRequest"]["status"], 200, "{body:#}");
    assert_eq!(body["data"]["executeRequest"]["body"]["login"], "octocat");

    // Logged, audited, and announced as a credentials update.
    let entries = logs(&server, &id).await;
    assert!(has_log(&entries, "INFO", "OAuth2 authorization started"));
    assert!(
        has_log(&entries, "INFO", "OAuth2 connected"),
        "{entries:#?}"
    );
    let store = &server.app().store;
    assert_eq!(
        patchbay::store::audit::count_action(store, "integration.oauth_start")
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        patchbay::store::audit::count_action(store, "integration.oauth_connect")
            .await
            .unwrap(),
        1
    );
    // The event is in the outbox (dispatched by the workers shortly after the commit).
    let mut seen = false;
    for _ in 0..50 {
        let events = patchbay::store::events::in_range(
            store,
            &project,
            patchbay::store::now() - chrono::Duration::minutes(5),
            patchbay::store::now() + chrono::Duration::minutes(1),
            100,
        )
        .await
        .unwrap();
        seen = events.iter().any(|e| {
            e.event_type == "integration.credentials_updated" && e.payload.contains("\"oauth\"")
        });
        if seen {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(seen, "integration.credentials_updated was not recorded");
    assert!(
        !format!(
            "{:?}",
            patchbay::store::audit::recent(store, 50).await.unwrap()
        )
        .contains(SECRET_MARKER)
    );

    // The same state again: refused on a clear page, nothing exchanged.
    let (status, page, headers) = visit(&callback).await;
    assert_error_page(status, &page, &headers, "already used");
    assert_eq!(provider.state.lock().unwrap().token_calls, 1);
    assert!(has_log(&logs(&server, &id).await, "WARN", "already used"));
    server.stop().await;
}

async fn oauth_denied_expired_and_unknown_states(backend: Backend) {
    let server = TestServer::start(backend).await;
    let provider = provider().await;
    let project = server.create_project("OAuth").await;
    let id = connected_integration(&server, &provider, &project).await;

    // Denied by the user: back to the page with the reason, and in the integration's log.
    let started = start(&server, &server.admin, &id).await;
    let state = started["state"].as_str().unwrap();
    let denied = format!(
        "{}/oauth/callback?error=access_denied&error_description=The+user+said+no&state={state}",
        server.url
    );
    let (status, location, _) = visit(&denied).await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        format!("{RETURN_TO}&oauth=error&reason=access_denied")
    );
    assert!(has_log(&logs(&server, &id).await, "WARN", "denied"));
    assert_eq!(provider.state.lock().unwrap().token_calls, 0);

    // Expired: the state is aged past its 10 minutes.
    let started = start(&server, &server.admin, &id).await;
    let callback = authorize_at_provider(started["authorizeUrl"].as_str().unwrap()).await;
    let aged = patchbay::store::oauth_states::set_expiry(
        &server.app().store,
        &id,
        patchbay::store::now() - chrono::Duration::seconds(1),
    )
    .await
    .unwrap();
    assert_eq!(aged, 1);
    let (status, page, headers) = visit(&callback).await;
    assert_error_page(status, &page, &headers, "expired");
    assert!(has_log(&logs(&server, &id).await, "WARN", "expired"));
    assert_eq!(provider.state.lock().unwrap().token_calls, 0);

    // Unknown or missing state.
    let (status, page, headers) = visit(&format!(
        "{}/oauth/callback?code=abc&state=forged-state",
        server.url
    ))
    .await;
    assert_error_page(status, &page, &headers, "not known");
    let (status, page, headers) = visit(&format!("{}/oauth/callback", server.url)).await;
    assert_error_page(status, &page, &headers, "no state");

    // Nothing was stored: the integration still has no access token.
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { credentials { setFields } } }",
            json!({ "id": id }),
        )
        .await;
    assert!(
        !data["integration"]["credentials"]["setFields"]
            .as_array()
            .unwrap()
            .contains(&json!("accessToken"))
    );
    server.stop().await;
}

async fn oauth_token_endpoint_failure_goes_back_with_a_reason(backend: Backend) {
    let server = TestServer::start(backend).await;
    let provider = provider().await;
    provider.state.lock().unwrap().fail_token = true;
    let project = server.create_project("OAuth").await;
    let id = connected_integration(&server, &provider, &project).await;
    let started = start(&server, &server.admin, &id).await;
    let callback = authorize_at_provider(started["authorizeUrl"].as_str().unwrap()).await;
    let (status, location, _) = visit(&callback).await;
    assert_eq!(status, 303);
    assert_eq!(
        location,
        format!("{RETURN_TO}&oauth=error&reason=token_endpoint")
    );
    assert_eq!(provider.state.lock().unwrap().token_calls, 1);
    let entries = logs(&server, &id).await;
    let entry = entries
        .iter()
        .find(|e| e["message"] == "OAuth2 authorization failed at the token endpoint")
        .unwrap_or_else(|| panic!("{entries:#?}"));
    assert_eq!(entry["level"], "ERROR");
    assert!(
        entry["metadata"]["error"].as_str().unwrap().contains("502"),
        "{entry}"
    );
    assert_eq!(
        patchbay::store::audit::count_action(&server.app().store, "integration.oauth_failed")
            .await
            .unwrap(),
        1
    );
    server.stop().await;
}

async fn oauth_start_is_checked_and_project_scoped(backend: Backend) {
    let server = TestServer::start(backend).await;
    let provider = provider().await;
    let mine = server.create_project("Mine").await;
    let theirs = server.create_project("Theirs").await;
    let id = connected_integration(&server, &provider, &mine).await;
    let input = |redirect: &str| json!({ "i": { "integrationId": id, "redirectUri": redirect } });

    // Another project's editor cannot see the integration; a viewer of its own may not start.
    let other_editor = server.token(Role::Editor, Some(&theirs)).await;
    let body = server.gql(&other_editor, START, input(RETURN_TO)).await;
    assert_eq!(code(&body), "NOT_FOUND", "{body}");
    let viewer = server.token(Role::Viewer, Some(&mine)).await;
    let body = server.gql(&viewer, START, input(RETURN_TO)).await;
    assert_eq!(code(&body), "FORBIDDEN", "{body}");
    let editor = server.token(Role::Editor, Some(&mine)).await;
    let started = start(&server, &editor, &id).await;
    assert!(started["authorizeUrl"].as_str().unwrap().contains("state="));

    // The page to return to must be an absolute http(s) URL.
    for bad in [
        "/relative",
        "javascript:alert(1)",
        "https://u:p@example.com/",
    ] {
        let body = server.gql(&editor, START, input(bad)).await;
        assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
        assert_eq!(
            body["errors"][0]["extensions"]["field"],
            "input.redirectUri"
        );
    }
    // Scopes asked for replace the stored ones.
    let body = server
        .ok(
            &editor,
            START,
            json!({ "i": { "integrationId": id, "redirectUri": RETURN_TO, "scopes": ["repo", "user"] } }),
        )
        .await;
    assert!(
        body["startOAuth"]["authorizeUrl"]
            .as_str()
            .unwrap()
            .contains("scope=repo+user")
    );

    // An integration without OAuth2 credentials cannot start.
    let plain = server.create_integration(&mine, "Plain").await;
    let body = server
        .gql(
            &editor,
            START,
            json!({ "i": { "integrationId": plain, "redirectUri": RETURN_TO } }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("OAuth2 credentials")
    );

    // From a template: its authorize URL and default scopes, the deployed client id.
    let data = server
        .ok(
            &server.admin,
            "{ template(slug: \"salesforce\") { id } }",
            json!({}),
        )
        .await;
    let data = server
        .ok(
            &server.admin,
            "mutation($i: DeployTemplateInput!) { deployTemplate(input: $i) { integration { id } } }",
            json!({ "i": { "templateId": data["template"]["id"], "projectId": mine,
                "config": { "instanceUrl": "https://acme.my.salesforce.com" },
                "credentials": { "clientId": "sf-client", "clientSecret": marked("sf-secret") } } }),
        )
        .await;
    let deployed = data["deployTemplate"]["integration"]["id"]
        .as_str()
        .unwrap();
    let started = start(&server, &editor, deployed).await;
    let url = url::Url::parse(started["authorizeUrl"].as_str().unwrap()).unwrap();
    assert_eq!(
        format!("{}{}", url.origin().ascii_serialization(), url.path()),
        "https://login.salesforce.com/services/oauth2/authorize"
    );
    let params: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(params["client_id"], "sf-client");
    assert_eq!(params["scope"], "api refresh_token");
    assert_eq!(
        params["redirect_uri"],
        format!("{}/oauth/callback", server.url)
    );
    server.stop().await;
}
