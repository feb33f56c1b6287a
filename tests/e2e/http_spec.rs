//! The GraphQL-over-HTTP specification, checked on the wire (transport only, so SQLite).

use reqwest::header::{ACCEPT, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::support::{Backend, TestServer, code};

const GRAPHQL_RESPONSE: &str = "application/graphql-response+json";

async fn server() -> TestServer {
    TestServer::start(Backend::Sqlite).await
}

fn content_type(response: &reqwest::Response) -> String {
    response.headers()[CONTENT_TYPE]
        .to_str()
        .unwrap()
        .to_owned()
}

async fn post(server: &TestServer, accept: Option<&str>, body: &str) -> reqwest::Response {
    let mut request = server
        .http
        .post(server.graphql_url())
        .bearer_auth(&server.admin)
        .header(CONTENT_TYPE, "application/json")
        .body(body.to_owned());
    if let Some(accept) = accept {
        request = request.header(ACCEPT, accept);
    }
    request.send().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn responses_follow_the_accepted_media_type() {
    let server = server().await;
    let ok = r#"{"query":"{ viewer { role } }"}"#;
    for (accept, expected) in [
        (None, "application/json"),
        (Some("application/json"), "application/json"),
        (Some(GRAPHQL_RESPONSE), GRAPHQL_RESPONSE),
        (
            Some("application/json, application/graphql-response+json"),
            GRAPHQL_RESPONSE,
        ),
        (Some("*/*"), "application/json"),
    ] {
        let response = post(&server, accept, ok).await;
        assert_eq!(response.status(), 200);
        assert!(
            content_type(&response).starts_with(expected),
            "{accept:?} -> {}",
            content_type(&response)
        );
        assert!(response.headers().contains_key("x-request-id"));
    }
    let response = post(&server, Some("text/plain"), ok).await;
    assert_eq!(response.status(), 406);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_errors_have_no_data_and_4xx_under_graphql_response_json() {
    let server = server().await;
    let cases = [
        (r#"{"query":"{ viewer { "}"#, "GRAPHQL_PARSE_FAILED"),
        (
            r#"{"query":"{ noSuchField }"}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"{"query":"query($n: Int!) { projects(first: $n) { totalCount } }","variables":{"n":"ten"}}"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{"query":"query($n: Int!) { projects(first: $n) { totalCount } }"}"#,
            "BAD_USER_INPUT",
        ),
        (
            r#"{"query":"query A { viewer { role } } query B { viewer { name } }"}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"{"query":"query A { viewer { role } }","operationName":"Nope"}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ];
    for (body, expected_code) in cases {
        let response = post(&server, Some(GRAPHQL_RESPONSE), body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert!(content_type(&response).starts_with(GRAPHQL_RESPONSE));
        let json: Value = response.json().await.unwrap();
        assert!(json.get("data").is_none(), "{body}: {json}");
        assert_eq!(code(&json), expected_code, "{body}: {json}");
        // The legacy type answers 200, still without data.
        let response = post(&server, Some("application/json"), body).await;
        assert_eq!(response.status(), 200, "{body}");
        let json: Value = response.json().await.unwrap();
        assert!(json.get("data").is_none());
    }
    // Requests that are not well-formed are 400 under either media type.
    for body in [
        "{not json",
        "[]",
        r#"[{"query":"{ viewer { role } }"}]"#,
        r#"{"query": 3}"#,
        r#"{"variables":{}}"#,
        r#"{"query":"{ viewer { role } }","variables":"x"}"#,
    ] {
        for accept in [GRAPHQL_RESPONSE, "application/json"] {
            let response = post(&server, Some(accept), body).await;
            assert_eq!(response.status(), 400, "{body} as {accept}");
            let json: Value = response.json().await.unwrap();
            assert!(json.get("data").is_none());
            assert!(json["errors"][0]["message"].is_string());
        }
    }
    // A field error is not a request error: 200 with data.
    let response = post(
        &server,
        Some(GRAPHQL_RESPONSE),
        r#"{"query":"{ project(id: \"prj_00000000000000000000000000\") { id } }"}"#,
    )
    .await;
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["data"]["project"], Value::Null);
    assert_eq!(code(&json), "NOT_FOUND");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn content_types_methods_and_limits() {
    let server = TestServer::start_with(Backend::Sqlite, |s| {
        s.max_body_bytes = Some(4096);
        s.max_query_depth = Some(5);
    })
    .await;
    let url = server.graphql_url();
    // POST without a content type, or with another one.
    let response = server
        .http
        .post(&url)
        .bearer_auth(&server.admin)
        .body(r#"{"query":"{ viewer { role } }"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    let response = server
        .http
        .post(&url)
        .bearer_auth(&server.admin)
        .header(CONTENT_TYPE, "text/plain")
        .body("{}")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 415);
    // Queries over GET work; mutations over GET are refused with 405 and nothing is written.
    let response = server
        .http
        .get(&url)
        .bearer_auth(&server.admin)
        .query(&[
            (
                "query",
                "query($n: Int) { projects(first: $n) { totalCount } }",
            ),
            ("variables", r#"{"n":1}"#),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let json: Value = response.json().await.unwrap();
    assert_eq!(json["data"]["projects"]["totalCount"], 0);
    let response = server
        .http
        .get(&url)
        .bearer_auth(&server.admin)
        .query(&[(
            "query",
            "mutation { createProject(input: { name: \"x\" }) { project { id } } }",
        )])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    let response = server
        .http
        .get(&url)
        .bearer_auth(&server.admin)
        .query(&[("query", "{ viewer { role } }"), ("variables", "[1]")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    // Oversized body.
    let big =
        json!({ "query": format!("{{ viewer {{ role }} }} #{}", "x".repeat(8192)) }).to_string();
    let response = post(&server, Some(GRAPHQL_RESPONSE), &big).await;
    assert_eq!(response.status(), 413);
    let json: Value = response.json().await.unwrap();
    assert_eq!(code(&json), "PAYLOAD_TOO_LARGE");
    // Too deep.
    let deep = r#"{"query":"{ integrations { edges { node { project { integrations { edges { node { id } } } } } } } }"}"#;
    let response = post(&server, Some(GRAPHQL_RESPONSE), deep).await;
    assert_eq!(response.status(), 400);
    let json: Value = response.json().await.unwrap();
    assert_eq!(code(&json), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        json["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("nested too deep")
    );
    // Subscriptions are for WebSockets.
    let response = post(
        &server,
        Some(GRAPHQL_RESPONSE),
        r#"{"query":"subscription { logs { id } }"}"#,
    )
    .await;
    assert_eq!(response.status(), 400);
    // A browser gets GraphiQL, without a token; the page knows the login fragment.
    let response = server
        .http
        .get(&url)
        .header(ACCEPT, "text/html,application/xhtml+xml")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(content_type(&response).starts_with("text/html"));
    let page = response.text().await.unwrap();
    assert!(page.contains("GraphiQL") && page.contains("token="));
    // Probes.
    let health: Value = server
        .http
        .get(format!("{}/healthz", server.url))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(health["status"], "ok");
    let ready = server
        .http
        .get(format!("{}/readyz", server.url))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status(), 200);
    let ready: Value = ready.json().await.unwrap();
    assert_eq!(
        ready["checks"],
        json!({ "store": true, "migrations": true })
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complexity_is_limited() {
    let server =
        TestServer::start_with(Backend::Sqlite, |s| s.max_query_complexity = Some(100)).await;
    let body = server
        .gql(
            &server.admin,
            "{ integrations(first: 500) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED");
    assert!(body.get("data").is_none());
    server
        .ok(
            &server.admin,
            "{ integrations(first: 10) { edges { node { id name } } } }",
            json!({}),
        )
        .await;
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_dashboard_is_served_with_its_headers_and_client_routes() {
    let server = TestServer::start(Backend::Sqlite).await;
    let get = |path: &str, accept: &str| {
        server
            .http
            .get(format!("{}{path}", server.url))
            .header(ACCEPT, accept)
            .send()
    };
    let html = "text/html,application/xhtml+xml";
    let page = get("/", html).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(content_type(&page).starts_with("text/html"));
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self'") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    assert!(page.headers().contains_key("referrer-policy"));
    assert_eq!(page.headers()["cache-control"], "no-cache");
    let body = page.text().await.unwrap();
    // Every script of the page is a hashed file, served for a year.
    let script = body
        .split("src=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap())
        .find(|s| s.starts_with("/assets/") && s.ends_with(".js"))
        .expect("the page loads a script from /assets/");
    let asset = get(script, "*/*").await.unwrap();
    assert_eq!(asset.status(), 200);
    assert!(
        content_type(&asset).contains("javascript"),
        "{}",
        content_type(&asset)
    );
    assert!(
        asset.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    // A client route gets the page; a missing asset and server paths do not.
    let route = get("/integrations/int_123/logs", html).await.unwrap();
    assert_eq!(route.status(), 200);
    assert_eq!(route.text().await.unwrap(), body);
    assert_eq!(get("/assets/nope.js", html).await.unwrap().status(), 404);
    assert_eq!(get("/hooks/int_x", html).await.unwrap().status(), 405);
    assert_eq!(
        get("/no/such/thing", "application/json")
            .await
            .unwrap()
            .status(),
        404
    );
    // GraphiQL comes from the binary (no CDN) with the same policy.
    let graphiql = get("/graphql", html).await.unwrap();
    assert!(graphiql.headers().contains_key("content-security-policy"));
    let graphiql = graphiql.text().await.unwrap();
    assert!(graphiql.contains("GraphiQL") && !graphiql.contains("unpkg"));
    server.stop().await;
}

/// GraphiQL's introspection query (graphql-js, every option on: 15 deep, leaves counted)
/// passes the default depth limit: below it GraphiQL shows no docs and no completion.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_introspection_fits_the_default_limits() {
    let server = server().await;
    let query = include_str!("introspection.graphql");
    let body = json!({ "query": query, "operationName": "IntrospectionQuery" }).to_string();
    let json: Value = post(&server, None, &body).await.json().await.unwrap();
    assert!(json.get("errors").is_none(), "{json}");
    let types = json["data"]["__schema"]["types"].as_array().unwrap();
    assert!(types.iter().any(|t| t["name"] == "Integration"));
    server.stop().await;
}

/// A document that passed validation once is not validated again when it comes back
/// without variables: the second answer must be the first one, and anything that
/// depends on variables or the operation picked is still checked every time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operations_validated_once_answer_the_same_again() {
    let server = server().await;
    let answer = |body: &'static str| {
        let server = &server;
        async move {
            let response = post(server, Some(GRAPHQL_RESPONSE), body).await;
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap())
        }
    };
    let optional =
        r#"{"query":"query Q($n: Int) { projects(first: $n) { totalCount } viewer { role } }"}"#;
    let first = answer(optional).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first.1["data"]["viewer"]["role"], "ADMIN");
    for _ in 0..3 {
        assert_eq!(answer(optional).await, first);
    }
    // The same document with an empty variables object is the same request.
    let empty = r#"{"query":"query Q($n: Int) { projects(first: $n) { totalCount } viewer { role } }","variables":{}}"#;
    assert_eq!(answer(empty).await, first);
    // Variables are checked on every request.
    let (status, json) = answer(
        r#"{"query":"query Q($n: Int) { projects(first: $n) { totalCount } viewer { role } }","variables":{"n":"ten"}}"#,
    )
    .await;
    assert_eq!(status, 400, "{json}");
    assert_eq!(code(&json), "BAD_USER_INPUT");

    // One operation of a document validated does not let another name through.
    let two = r#"{"query":"query A { viewer { role } } query B { viewer { name } }","operationName":"A"}"#;
    let first = answer(two).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(answer(two).await, first);
    for (body, expected) in [
        (
            r#"{"query":"query A { viewer { role } } query B { viewer { name } }","operationName":"Nope"}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            r#"{"query":"query A { viewer { role } } query B { viewer { name } }"}"#,
            "GRAPHQL_VALIDATION_FAILED",
        ),
    ] {
        for _ in 0..2 {
            let (status, json) = answer(body).await;
            assert_eq!(status, 400, "{body}: {json}");
            assert_eq!(code(&json), expected, "{body}: {json}");
        }
    }
    // A document that failed validation fails again.
    for _ in 0..2 {
        let (status, json) = answer(r#"{"query":"{ viewer { role nope } }"}"#).await;
        assert_eq!(status, 400);
        assert_eq!(code(&json), "GRAPHQL_VALIDATION_FAILED");
    }
    server.stop().await;
}
