//! patchbay-load: a black-box load tool for patchbay (bench/README.md, "Load tool").
//!
//! It talks to a server only over HTTP and WebSocket, as a user would: by default it starts
//! `--server-bin` on a fresh store (SQLite in a temp dir, or a fresh PostgreSQL database with
//! `--pg`), takes the bootstrap ADMIN token from its start-up banner, runs one scenario,
//! prints one table and stops the server. The server's CPU time and RSS come from
//! `/proc/<pid>`, its counters from `/metrics`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a load tool: a panic is a failed run

mod fanout_floor;
mod gql;
mod health;
mod incoming;
mod query;
mod report;
mod server;
mod sims;
mod subscribers;
mod sync;
mod webhooks;

use clap::{Parser, Subcommand};

use crate::server::{ServerOpts, Target};

#[derive(Parser, Debug)]
#[command(
    name = "patchbay-load",
    version,
    about = "Load tool for patchbay: starts the server on a fresh store (or uses --url), runs one scenario, prints one table"
)]
struct Cli {
    #[command(flatten)]
    server: ServerOpts,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// N integrations with scheduled health checks against a simulated upstream: checks/s,
    /// schedule drift, server CPU/RSS, dashboard query latency while checks run.
    Health(health::HealthArgs),
    /// N graphql-transport-ws subscribers on healthChanged: memory per idle subscriber,
    /// event→client latency of K health changes, missed messages.
    Subscribers(subscribers::SubscribersArgs),
    /// publishEvent → built-in receiver through 1, 10, 100 endpoints, flat out or at a rate.
    Webhooks(webhooks::WebhooksArgs),
    /// Incoming webhooks on /hooks/{id} (SHARED_TOKEN): accepted/s and latency.
    Incoming(incoming::IncomingArgs),
    /// GraphQL query load (the 50-row integrations page): req/s, p50/p99.
    Graphql(query::GraphqlArgs),
    /// One sync of N records (100,000 by default) from a built-in paginated upstream:
    /// records/s of a full first run and of an unchanged second run.
    Sync(sync::SyncArgs),
    /// The fan-out floor server that `subscribers --floor` starts (internal).
    #[command(hide = true)]
    FanoutFloor,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    raise_open_files_limit();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    if let Command::FanoutFloor = cli.command {
        return fanout_floor::serve().await;
    }
    let target = Target::start(&cli.server).await?;
    let result = match cli.command {
        Command::Health(args) => health::run(&target, args).await,
        Command::Subscribers(args) => subscribers::run(&target, args).await,
        Command::Webhooks(args) => webhooks::run(&target, args).await,
        Command::Incoming(args) => incoming::run(&target, args).await,
        Command::Graphql(args) => query::run(&target, args).await,
        Command::Sync(args) => sync::run(&target, args).await,
        Command::FanoutFloor => Err(anyhow::anyhow!(
            "fanout-floor is served before any server starts"
        )),
    };
    target.stop().await;
    result?.print();
    Ok(())
}

/// Thousands of sockets: the soft open-files limit goes up to the hard one, for this process
/// and the server it starts (children inherit it).
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit with a valid pointer to an rlimit.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                report::progress("could not raise the open-files limit");
            }
        }
    }
}
