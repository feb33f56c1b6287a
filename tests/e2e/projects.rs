//! Projects: create, read, list with Relay paging, conflicts, audit and log trail.

use serde_json::json;

use crate::on_both_backends;
use crate::support::{Backend, TestServer, code};

on_both_backends!(
    projects_are_created_listed_and_paged,
    duplicate_slugs_conflict
);

async fn projects_are_created_listed_and_paged(backend: Backend) {
    let server = TestServer::start(backend).await;
    let mut ids = Vec::new();
    for name in ["Alpha Team", "Beta", "Gamma", "Delta", "Epsilon"] {
        ids.push(server.create_project(name).await);
    }
    let data = server
        .ok(
            &server.admin,
            "query($id: ID!) { project(id: $id) { id name slug createdAt } }",
            json!({ "id": ids[0] }),
        )
        .await;
    assert_eq!(data["project"]["slug"], "alpha-team");
    assert_eq!(data["project"]["name"], "Alpha Team");

    // Forward paging: 2 + 2 + 1, with cursors and totalCount.
    let page = "query($after: String) { projects(first: 2, after: $after) { totalCount pageInfo { hasNextPage hasPreviousPage endCursor } edges { cursor node { id } } } }";
    let mut seen = Vec::new();
    let mut after = serde_json::Value::Null;
    loop {
        let data = server
            .ok(&server.admin, page, json!({ "after": after }))
            .await;
        let projects = &data["projects"];
        assert_eq!(projects["totalCount"], 5);
        for edge in projects["edges"].as_array().unwrap() {
            assert_eq!(edge["cursor"], edge["node"]["id"]);
            seen.push(edge["node"]["id"].as_str().unwrap().to_owned());
        }
        if !projects["pageInfo"]["hasNextPage"].as_bool().unwrap() {
            break;
        }
        after = projects["pageInfo"]["endCursor"].clone();
    }
    assert_eq!(
        seen, ids,
        "pages cover every project once, in creation order"
    );

    // Backward paging.
    let data = server
        .ok(
            &server.admin,
            "{ projects(last: 2) { pageInfo { hasPreviousPage } edges { node { id } } } }",
            json!({}),
        )
        .await;
    let last: Vec<_> = data["projects"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(last, [ids[3].as_str(), ids[4].as_str()]);
    assert_eq!(data["projects"]["pageInfo"]["hasPreviousPage"], true);

    // Every creation left an audit record and a log entry.
    let audits = patchbay::store::audit::count_action(&server.app().store, "project.create")
        .await
        .unwrap();
    assert_eq!(audits, 5);
    let data = server
        .ok(&server.admin, "query($p: ID!) { logs(filter: { projectId: $p }) { edges { node { level message } } } }", json!({ "p": ids[1] }))
        .await;
    assert_eq!(
        data["logs"]["edges"][0]["node"]["message"],
        "project created"
    );

    // Bad paging input names its field.
    let body = server
        .gql(
            &server.admin,
            "{ projects(first: 10, last: 2) { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    let body = server
        .gql(
            &server.admin,
            "{ projects(after: \"int_x\") { totalCount } }",
            json!({}),
        )
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "after");
    server.stop().await;
}

async fn duplicate_slugs_conflict(backend: Backend) {
    let server = TestServer::start(backend).await;
    server.create_project("Ops").await;
    let create = "mutation($n: String!, $s: String) { createProject(input: { name: $n, slug: $s }) { project { id } } }";
    let body = server
        .gql(&server.admin, create, json!({ "n": "ops" }))
        .await;
    assert_eq!(code(&body), "CONFLICT");
    let body = server
        .gql(
            &server.admin,
            create,
            json!({ "n": "Other", "s": "Not A Slug" }),
        )
        .await;
    assert_eq!(code(&body), "BAD_USER_INPUT");
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.slug");
    let body = server
        .gql(&server.admin, create, json!({ "n": "   " }))
        .await;
    assert_eq!(body["errors"][0]["extensions"]["field"], "input.name");
    let data = server
        .ok(&server.admin, "{ projects { totalCount } }", json!({}))
        .await;
    assert_eq!(
        data["projects"]["totalCount"], 1,
        "refused creations wrote nothing"
    );
    server.stop().await;
}
