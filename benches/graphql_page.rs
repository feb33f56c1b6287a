//! What resolving a page costs inside the process, without HTTP or the load tool sharing the
//! cores: the 50-row integrations page read from the store alone, answered by GraphQL through
//! patchbay's connection resolver (`graphql::connection`), and the same selection wrapped in
//! an inline fragment, which takes async-graphql's own resolver. The differences between the
//! three are what GraphQL adds per answer, measured side by side in one run.
//! Run with `cargo bench --bench graphql_page`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
// test and load tools: a panic is a failed run
// Laying out the whole schema's resolver futures in this crate nests past the default limit.
#![recursion_limit = "256"]

use criterion::{Criterion, criterion_group, criterion_main};
use patchbay::config::{Config, Settings};
use patchbay::domain::Category;
use patchbay::domain::access::Caller;
use patchbay::domain::integrations::{self, CreateIntegrationInput, IntegrationFilter};
use patchbay::domain::projects::{self, CreateProjectInput};
use patchbay::store::PageRequest;

const ROWS: usize = 50;
const PLAIN: &str = "{ integrations(first: 50) { edges { node { id name status } } } }";
const PLAIN_VIA_ASYNC_GRAPHQL: &str = "{ integrations(first: 50) { ... on IntegrationConnection { edges { node { id name status } } } } }";
const WITH_LOADERS: &str = "{ integrations(first: 50) { totalCount edges { node { id name status category tags health { status } credentials { kind } } } } }";
const WITH_LOADERS_VIA_ASYNC_GRAPHQL: &str = "{ integrations(first: 50) { ... on IntegrationConnection { totalCount edges { node { id name status category tags health { status } credentials { kind } } } } } }";

fn page(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let data_dir = tempfile::tempdir().expect("temporary directory");
    let settings = Settings {
        listen: Some("127.0.0.1:0".parse().expect("address")),
        data_dir: Some(data_dir.path().to_path_buf()),
        log_level: Some("warn".to_owned()),
        ..Settings::default()
    };
    let config = Config::resolve(&settings).expect("config");
    let server = runtime
        .block_on(patchbay::server::start(config))
        .expect("server");
    let app = server.app.clone();
    let caller = Caller::local_operator();
    runtime.block_on(async {
        let project = projects::create(
            &app,
            &caller,
            CreateProjectInput {
                name: "Bench".into(),
                slug: None,
                description: None,
            },
        )
        .await
        .expect("project");
        for i in 0..ROWS {
            let mut input = CreateIntegrationInput::minimal(
                &project.id,
                format!("jira-{i:03}"),
                Category::ProjectManagement,
            );
            input.description = Some(format!("tracker number {i}"));
            input.tags = Some(vec![format!("team-{:03}", i % 7), "prod".to_owned()]);
            input.base_url = Some("https://api.example.com".into());
            integrations::create(&app, &caller, input)
                .await
                .expect("integration");
        }
    });
    let schema = patchbay::graphql::build(app.clone());
    let answer = |query: &'static str| {
        let request = async_graphql::Request::new(query).data(caller.clone());
        let response = runtime.block_on(schema.execute(request));
        assert!(response.errors.is_empty(), "{:?}", response.errors);
        response
    };
    // Both paths give the same page (the e2e suite checks every shape; this keeps the
    // benchmark honest about what it compares).
    assert_eq!(
        answer(PLAIN).data.to_string().len(),
        answer(PLAIN_VIA_ASYNC_GRAPHQL).data.to_string().len()
    );

    let mut group = c.benchmark_group("integrations page, 50 rows (SQLite)");
    group.bench_function("store only (integrations::list)", |b| {
        b.iter(|| {
            runtime.block_on(integrations::list(
                &app.store,
                &caller,
                None,
                IntegrationFilter::default(),
                &PageRequest {
                    limit: 50,
                    ..Default::default()
                },
            ))
        })
    });
    group.bench_function("GraphQL id name status: connection resolver", |b| {
        b.iter(|| answer(PLAIN))
    });
    group.bench_function("GraphQL id name status: async-graphql resolver", |b| {
        b.iter(|| answer(PLAIN_VIA_ASYNC_GRAPHQL))
    });
    group.bench_function(
        "GraphQL with health and credentials: connection resolver",
        |b| b.iter(|| answer(WITH_LOADERS)),
    );
    group.bench_function(
        "GraphQL with health and credentials: async-graphql resolver",
        |b| b.iter(|| answer(WITH_LOADERS_VIA_ASYNC_GRAPHQL)),
    );
    group.finish();
    runtime.block_on(server.stop());
}

criterion_group!(benches, page);
criterion_main!(benches);
