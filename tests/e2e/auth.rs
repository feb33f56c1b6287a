//! Authentication, roles and project scope, over every root field and `node`.

use patchbay::domain::access::Role;
use serde_json::{Value, json};

use crate::on_both_backends;
use crate::support::{Backend, TestServer, code, integration_count};

on_both_backends!(
    requests_need_a_valid_token,
    viewers_cannot_mutate,
    project_scope_hides_other_projects
);

async fn requests_need_a_valid_token(backend: Backend) {
    let server = TestServer::start(backend).await;
    let query = json!({ "query": "{ viewer { name } }" });
    let post = |token: Option<&str>| {
        let mut request = server.http.post(server.graphql_url()).json(&query);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    for token in [
        None,
        Some("pbk_wrong"),
        Some("pbk_0"),
        Some("pbk_0000000000000000000000000000000000000000000000000000000000000000"),
    ] {
        let response = post(token).await.unwrap();
        assert_eq!(response.status(), 401, "{token:?}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        let body: Value = response.json().await.unwrap();
        assert_eq!(code(&body), "UNAUTHENTICATED");
        assert!(body.get("data").is_none());
    }
    let response = server
        .http
        .post(server.graphql_url())
        .header("authorization", "Basic YWRtaW46YWRtaW4=")
        .json(&query)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A revoked token stops working at once.
    let data = server
        .ok(&server.admin, "mutation { createApiToken(input: { name: \"ci\", role: VIEWER }) { token { id role } secret } }", json!({}))
        .await;
    let secret = data["createApiToken"]["secret"]
        .as_str()
        .unwrap()
        .to_owned();
    let id = data["createApiToken"]["token"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        server.ok(&secret, "{ viewer { role } }", json!({})).await["viewer"]["role"],
        "VIEWER"
    );
    server
        .ok(
            &server.admin,
            "mutation($id: ID!) { revokeApiToken(id: $id) { token { revokedAt } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(post(Some(&secret)).await.unwrap().status(), 401);
    // Tokens are stored only as hashes, and listed without secrets.
    let data = server
        .ok(
            &server.admin,
            "{ apiTokens { id name role revokedAt } }",
            json!({}),
        )
        .await;
    assert!(!data.to_string().contains(&secret));
    assert_eq!(data["apiTokens"].as_array().unwrap().len(), 2);
    server.stop().await;
}

async fn viewers_cannot_mutate(backend: Backend) {
    let server = TestServer::start(backend).await;
    let project = server.create_project("Acme").await;
    let integration = server.create_integration(&project, "Jira").await;
    let viewer = server.token(Role::Viewer, None).await;
    let editor = server.token(Role::Editor, None).await;
    let mutations = [
        (
            "mutation($p: ID!) { createIntegration(input: { projectId: $p, name: \"X\", category: CUSTOM }) { integration { id } } }",
            json!({ "p": project }),
        ),
        (
            "mutation($i: ID!) { updateIntegration(input: { id: $i, name: \"Y\" }) { integration { id } } }",
            json!({ "i": integration }),
        ),
        (
            "mutation($i: ID!) { setIntegrationEnabled(id: $i, enabled: false) { integration { id } } }",
            json!({ "i": integration }),
        ),
        (
            "mutation($i: ID!) { deleteIntegration(id: $i) { deletedId } }",
            json!({ "i": integration }),
        ),
        (
            "mutation { createProject(input: { name: \"P\" }) { project { id } } }",
            json!({}),
        ),
        (
            "mutation { createApiToken(input: { name: \"t\", role: ADMIN }) { secret } }",
            json!({}),
        ),
    ];
    for (query, variables) in &mutations {
        let body = server.gql(&viewer, query, variables.clone()).await;
        assert_eq!(code(&body), "FORBIDDEN", "{query}");
    }
    // Editors change integrations but cannot mint tokens.
    let body = server.gql(&editor, mutations[5].0, json!({})).await;
    assert_eq!(code(&body), "FORBIDDEN");
    let data = server
        .ok(
            &viewer,
            "query($i: ID!) { integration(id: $i) { name enabled } }",
            json!({ "i": integration }),
        )
        .await;
    assert_eq!(
        data["integration"],
        json!({ "name": "Jira", "enabled": true }),
        "nothing changed"
    );
    assert_eq!(integration_count(&server).await, 1);
    server.stop().await;
}

async fn project_scope_hides_other_projects(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mine = server.create_project("Mine").await;
    let theirs = server.create_project("Theirs").await;
    let my_integration = server.create_integration(&mine, "Mine-Jira").await;
    let their_integration = server.create_integration(&theirs, "Their-Jira").await;
    let scoped = server.token(Role::Editor, Some(&mine)).await;

    // Lists show only the token's project.
    let data = server.ok(&scoped, "{ viewer { project { id } } projects { totalCount edges { node { id } } } integrations { totalCount edges { node { id } } } logs { edges { node { project { id } } } } }", json!({})).await;
    assert_eq!(data["viewer"]["project"]["id"], mine.as_str());
    assert_eq!(data["projects"]["totalCount"], 1);
    assert_eq!(data["projects"]["edges"][0]["node"]["id"], mine.as_str());
    assert_eq!(data["integrations"]["totalCount"], 1);
    assert_eq!(
        data["integrations"]["edges"][0]["node"]["id"],
        my_integration.as_str()
    );
    for entry in data["logs"]["edges"].as_array().unwrap() {
        assert_eq!(entry["node"]["project"]["id"], mine.as_str());
    }

    // Every way to reach the other project answers NOT_FOUND, exactly like an unknown ID.
    let reads = [
        (
            "query($id: ID!) { project(id: $id) { id } }",
            json!({ "id": theirs }),
        ),
        (
            "query($id: ID!) { integration(id: $id) { id } }",
            json!({ "id": their_integration }),
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": theirs }),
        ),
        (
            "query($id: ID!) { node(id: $id) { id } }",
            json!({ "id": their_integration }),
        ),
        (
            "query($id: ID!) { integrations(projectId: $id) { totalCount } }",
            json!({ "id": theirs }),
        ),
        (
            "query($id: ID!) { logs(filter: { projectId: $id }) { totalCount } }",
            json!({ "id": theirs }),
        ),
        (
            "query($id: ID!) { logs(filter: { integrationId: $id }) { totalCount } }",
            json!({ "id": their_integration }),
        ),
    ];
    for (query, variables) in &reads {
        let body = server.gql(&scoped, query, variables.clone()).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query} {variables}");
        let message = body["errors"][0]["message"].as_str().unwrap();
        assert!(
            !message.contains("Their"),
            "no detail of the other project leaks: {message}"
        );
    }
    // And writes into it are refused the same way.
    let writes = [
        (
            "mutation($id: ID!) { createIntegration(input: { projectId: $id, name: \"X\", category: CUSTOM }) { integration { id } } }",
            json!({ "id": theirs }),
        ),
        (
            "mutation($id: ID!) { updateIntegration(input: { id: $id, name: \"X\" }) { integration { id } } }",
            json!({ "id": their_integration }),
        ),
        (
            "mutation($id: ID!) { deleteIntegration(id: $id) { deletedId } }",
            json!({ "id": their_integration }),
        ),
        (
            "mutation($id: ID!) { setIntegrationEnabled(id: $id, enabled: false) { integration { id } } }",
            json!({ "id": their_integration }),
        ),
    ];
    for (query, variables) in &writes {
        let body = server.gql(&scoped, query, variables.clone()).await;
        assert_eq!(code(&body), "NOT_FOUND", "{query}");
    }
    let body = server
        .gql(
            &scoped,
            "mutation { createProject(input: { name: \"New\" }) { project { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "FORBIDDEN");
    // The scoped token still works on its own project.
    server.ok(&scoped, "mutation($id: ID!) { updateIntegration(input: { id: $id, description: \"ok\" }) { integration { id } } }", json!({ "id": my_integration })).await;
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { integration(id: $id) { name version } }",
            json!({ "id": their_integration }),
        )
        .await;
    assert_eq!(
        data["integration"],
        json!({ "name": "Their-Jira", "version": 1 })
    );
    server.stop().await;
}
