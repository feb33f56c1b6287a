//! The `patchbay` command: serve (default), migrate, print-schema, token.

use std::process::ExitCode;

use anyhow::Context;
use clap::{Parser, Subcommand};
use patchbay::config::{Config, LogFormat, Settings};
use patchbay::domain::access::{Caller, Role};
use patchbay::domain::tokens;
use patchbay::store::{self, Store};

/// patchbay: plug your tools in, call them, watch them, stream what happens.
#[derive(Parser)]
#[command(
    name = "patchbay",
    version,
    about,
    long_about = None,
    after_help = "Environment only (never a flag, so it stays out of process lists):\n  \
                  PATCHBAY_MASTER_KEY  passphrase the vault's master key is derived from \
                  (PBKDF2-HMAC-SHA256, 600,000 rounds); takes precedence over --master-key-file\n  \
                  PATCHBAY_METRICS_TOKEN  bearer token GET /metrics requires (unset: open)\n\n\
                  Every setting can also be given in the TOML file of --config; see config.default.toml."
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server (the default): applies migrations, serves GraphQL, GraphiQL and the dashboard.
    Serve,
    /// Apply pending database migrations (or revert the newest one).
    Migrate {
        /// Revert the newest applied migration instead.
        #[arg(long)]
        revert: bool,
    },
    /// Print the GraphQL schema (SDL) to stdout.
    PrintSchema,
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Re-wrap every credential's data key under a new key-encryption key (resumable).
    /// With --new-master-key-file, first move the key ring to a new master key; restart
    /// servers with that key afterwards.
    RotateKey {
        /// File with the new 32-byte master key (created, mode 0600, if it does not exist).
        #[arg(long, value_name = "FILE")]
        new_master_key_file: Option<std::path::PathBuf>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token and print it (it is shown only this once).
    Create {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Limit the token to one project.
        #[arg(long, value_name = "PROJECT_ID")]
        project: Option<String>,
        #[arg(long, default_value = "cli token")]
        name: String,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by ID.
    Revoke { id: String },
}

fn parse_role(value: &str) -> Result<Role, String> {
    value
        .to_ascii_uppercase()
        .parse()
        .map_err(|_| "expected ADMIN, EDITOR or VIEWER".to_owned())
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match Config::resolve(&cli.settings) {
        Ok(config) => {
            init_tracing(&config);
            run(cli.command.unwrap_or(Command::Serve), config).await
        }
        Err(err) => Err(err),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(config: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&config.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match config.log_format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Pretty => builder.init(),
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate { revert } => {
            let report = if revert {
                store::revert_last(&config.database).await?
            } else {
                store::run_pending(&config.database).await?
            };
            let verb = if revert { "reverted" } else { "applied" };
            if report.applied.is_empty() {
                println!(
                    "{}: nothing to do, migrations are current",
                    config.database.describe()
                );
            }
            for version in report.applied {
                println!("{verb} {version}");
            }
            Ok(())
        }
        Command::PrintSchema => {
            print!("{}", patchbay::graphql::sdl());
            Ok(())
        }
        Command::Token(command) => token(command, config).await,
        Command::RotateKey {
            new_master_key_file,
        } => rotate_key(config, new_master_key_file).await,
    }
}

async fn rotate_key(
    config: Config,
    new_master_key_file: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    use patchbay::vault::{Vault, rotation};
    let store = Store::open(config.database.clone(), 2).await?;
    let mut vault = Vault::unlock(&store, &config.master_key_settings()).await?;
    if let Some(path) = &new_master_key_file {
        let (key, created) = Vault::load_or_create_key_file(path)?;
        if created {
            eprintln!(
                "created the new master key file {} (mode 0600): back it up",
                path.display()
            );
        }
        vault = vault.rotate_master(&store, key, "file").await?;
        eprintln!(
            "the key ring is now protected by the master key in {}",
            path.display()
        );
    }
    let started = rotation::start(&store, &vault).await?;
    let bar = indicatif::ProgressBar::new(u64::try_from(started.total).unwrap_or(0));
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg} [{bar:40}] {pos}/{len} data keys ({per_sec}, {eta})",
        )
        .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    bar.set_message(format!("re-wrapping under {}", started.target_key_id));
    bar.set_position(u64::try_from(started.done).unwrap_or(0));
    let finished = rotation::run(&store, &vault, &started.id, |done, _| {
        bar.set_position(u64::try_from(done).unwrap_or(0));
    })
    .await?;
    bar.finish();
    println!(
        "rotation {} done: {} data keys now under {}",
        finished.id, finished.done, finished.target_key_id
    );
    if let Some(path) = new_master_key_file {
        println!(
            "restart patchbay with --master-key-file {} (or PATCHBAY_MASTER_KEY_FILE)",
            path.display()
        );
    }
    Ok(())
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    // Registered before anything is printed: a supervisor may signal as soon as it sees output.
    let stop_requested = patchbay::server::termination_signal();
    let server = patchbay::server::start(config).await?;
    let base = server.base_url();
    println!(
        "patchbay {} is ready ({} ms)",
        env!("CARGO_PKG_VERSION"),
        started.elapsed().as_millis()
    );
    println!("  store:     {}", server.app.store.target().describe());
    let roles = server.app.config.roles;
    if roles.is_split() {
        println!("  role:      {}", roles.describe());
    }
    if roles.api {
        println!("  dashboard: {base}/");
        println!("  GraphiQL:  {base}/graphql");
    }
    println!("  health:    {base}/healthz, {base}/readyz");
    if let Some(path) = &server.app.vault.created_key_file {
        println!();
        println!(
            "WARNING: created the master key file {} (mode 0600).",
            path.display()
        );
        println!("         BACK IT UP: without it, every stored credential is lost.");
    }
    match &server.bootstrap_token {
        Some(issued) => {
            println!();
            println!("First start: an ADMIN token was created. It is shown only this once.");
            println!(
                "  Open the dashboard:            {base}/#token={}",
                issued.secret
            );
            println!(
                "  Log in to GraphiQL by opening: {base}/graphql#token={}",
                issued.secret
            );
            println!(
                "  Or send the header:            Authorization: Bearer {}",
                issued.secret
            );
            println!("  More tokens: patchbay token create --role EDITOR|VIEWER|ADMIN");
        }
        None => println!(
            "  log in:    open {base}/#token=<your token> (dashboard) or {base}/graphql#token=<your token> (GraphiQL); new tokens: patchbay token create"
        ),
    }
    let stop = server.shutdown_token();
    tokio::spawn(async move {
        stop_requested.await;
        tracing::info!("shutting down");
        stop.cancel();
    });
    server.wait().await;
    Ok(())
}

async fn token(command: TokenCommand, config: Config) -> anyhow::Result<()> {
    let store = Store::open(config.database.clone(), 2).await?;
    let caller = Caller::local_operator();
    match command {
        TokenCommand::Create {
            role,
            project,
            name,
        } => {
            let issued = tokens::create(&store, &caller, &name, role, project.as_deref())
                .await
                .context("cannot create the token")?;
            println!("{}", issued.secret);
            eprintln!(
                "created {} ({}, {}{}); the token above is shown only once",
                issued.token.id,
                issued.token.name,
                issued.token.role.as_str(),
                issued
                    .token
                    .project_id
                    .map(|p| format!(", project {p}"))
                    .unwrap_or_default()
            );
        }
        TokenCommand::List => {
            println!(
                "{:<31} {:<7} {:<31} {:<8} NAME",
                "ID", "ROLE", "PROJECT", "STATUS"
            );
            for token in tokens::list(&store, &caller).await? {
                let status = if token.revoked_at.is_some() {
                    "revoked"
                } else {
                    "active"
                };
                println!(
                    "{:<31} {:<7} {:<31} {:<8} {}",
                    token.id,
                    token.role.as_str(),
                    token.project_id.as_deref().unwrap_or("-"),
                    status,
                    token.name
                );
            }
        }
        TokenCommand::Revoke { id } => {
            let token = tokens::revoke(&store, &caller, &id).await?;
            println!("revoked {}", token.id);
        }
    }
    Ok(())
}
