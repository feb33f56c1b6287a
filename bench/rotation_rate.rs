//! Key rotation rate (data keys re-wrapped per second) on one store: seeds N credentials,
//! rotates, prints the rate. `bench/rotation.sh` runs it on SQLite and PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::time::Instant;

use patchbay::config::{Config, Settings};
use patchbay::domain::Category;
use patchbay::domain::access::Caller;
use patchbay::domain::credentials::{self, BearerInput, CredentialsInput, SetCredentialsInput};
use patchbay::domain::integrations::{self, CreateIntegrationInput};
use patchbay::domain::projects::{self, CreateProjectInput};
use patchbay::vault::rotation;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let data_dir = args.next().unwrap_or_else(|| "./bench-rotation".to_owned());
    let count: usize = args.next().map(|n| n.parse()).transpose()?.unwrap_or(5000);
    let settings = Settings {
        listen: Some("127.0.0.1:0".parse()?),
        data_dir: Some(data_dir.into()),
        log_level: Some("warn".to_owned()),
        // Settings are built here, not parsed by clap, so read the store's URL explicitly.
        database_url: std::env::var("PATCHBAY_DATABASE_URL").ok(),
        ..Settings::default()
    };
    let server = patchbay::server::start(Config::resolve(&settings)?).await?;
    let app = server.app.clone();
    let caller = Caller::local_operator();
    let project = projects::create(
        &app,
        &caller,
        CreateProjectInput {
            name: "Rotation".into(),
            slug: None,
            description: None,
        },
    )
    .await?;
    for i in 0..count {
        let input = CreateIntegrationInput::minimal(&project.id, format!("i{i}"), Category::Custom);
        let integration = integrations::create(&app, &caller, input).await?;
        let set = SetCredentialsInput {
            integration_id: integration.id.into(),
            credentials: CredentialsInput::Bearer(BearerInput {
                token: format!("token-{i}"),
            }),
        };
        credentials::set(&app, &caller, set).await?;
    }
    let started = Instant::now();
    let rotation = rotation::start(&app.store, &app.vault).await?;
    let finished = rotation::run(&app.store, &app.vault, &rotation.id, |_, _| {}).await?;
    let elapsed = started.elapsed();
    println!(
        "{}: re-wrapped {} data keys in {:.2} s = {:.0} integrations/s",
        app.store.target().describe(),
        finished.done,
        elapsed.as_secs_f64(),
        f64::from(finished.done) / elapsed.as_secs_f64()
    );
    server.stop().await;
    Ok(())
}
