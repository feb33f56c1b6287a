//! Starting and stopping the server: store → app → router → listener, plus the
//! background retention task; one cancellation token stops everything gracefully.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::Config;
use crate::domain::tokens::{self, IssuedToken};
use crate::store::{Store, logs as log_store, now};
use crate::vault::{Vault, rotation};

const RETENTION_INTERVAL: Duration = Duration::from_secs(60);

/// A running server.
pub struct RunningServer {
    /// Where it listens (the real port when configured with port 0).
    pub addr: SocketAddr,
    pub app: Arc<App>,
    /// The first ADMIN token, when this start created it (first start on an empty store).
    pub bootstrap_token: Option<IssuedToken>,
    shutdown: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
}

impl RunningServer {
    /// The base URL for links (the public URL if configured).
    pub fn base_url(&self) -> String {
        self.app.config.base_url(self.addr)
    }

    /// A token that stops the server when cancelled.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Stops accepting, lets in-flight requests finish, and waits for every task.
    pub async fn stop(self) {
        self.shutdown.cancel();
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Stops every task at once, as a crash would (no graceful hand-over: claimed work
    /// stays claimed until its lease expires). For crash-recovery tests.
    pub async fn kill(self) {
        for task in &self.tasks {
            task.abort();
        }
        for task in self.tasks {
            let _ = task.await;
        }
    }

    /// Waits until the server stops (after [`Self::shutdown_token`] is cancelled).
    pub async fn wait(self) {
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// Opens the store (applying migrations), creates the first token if needed, and serves.
pub async fn start(mut config: Config) -> anyhow::Result<RunningServer> {
    let store = Store::open(config.database.clone(), config.db_pool_size)
        .await
        .context("cannot open the store")?;
    // Before anything is written: a wrong master key stops the start here.
    let vault = Vault::unlock(&store, &config.master_key_settings())
        .await
        .context("cannot open the credentials vault")?;
    // A bad built-in template file stops the start here, naming the file and the path.
    let catalog = crate::domain::templates::catalog::install(&store)
        .await
        .context("cannot load the built-in templates")?;
    tracing::debug!(
        templates = catalog.templates,
        written = catalog.written,
        elapsed_ms = catalog.elapsed.as_millis() as u64,
        "built-in templates loaded"
    );
    let bootstrap_token = tokens::bootstrap_admin(&store)
        .await
        .map_err(|e| anyhow::anyhow!("cannot create the first API token: {e}"))?;
    let listener = tokio::net::TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let addr = listener.local_addr()?;
    // Links built for users (the OAuth2 callback) use the printed base URL: the configured
    // public URL, else the address actually bound (the real port when configured with 0).
    config.public_url = Some(config.base_url(addr));
    let app = App::new(config, store, vault)?;
    let shutdown = CancellationToken::new();

    let router = crate::http::router(app.clone());
    let stop = shutdown.clone();
    let server = tokio::spawn(async move {
        let result = axum::serve(listener, router)
            .with_graceful_shutdown(async move { stop.cancelled().await })
            .await;
        if let Err(err) = result {
            tracing::error!(error = %err, "the HTTP server failed");
        }
    });
    let mut tasks = vec![server];
    if app.config.roles.workers {
        tasks.push(tokio::spawn(retention_loop(app.clone(), shutdown.clone())));
        resume_rotation(&app);
    }
    tasks.extend(crate::jobs::spawn(app.clone(), shutdown.clone()));
    tracing::info!(%addr, store = %app.store.target().describe(), roles = app.config.roles.describe(), "patchbay is serving");
    Ok(RunningServer {
        addr,
        app,
        bootstrap_token,
        shutdown,
        tasks,
    })
}

/// Finishes a key rotation that a crash or stop interrupted.
fn resume_rotation(app: &Arc<App>) {
    let app = app.clone();
    tokio::spawn(async move {
        match crate::store::vault::running_rotation(&app.store).await {
            Ok(Some(rotation)) => {
                tracing::info!(rotation = %rotation.id, "resuming an interrupted key rotation");
                if let Err(err) =
                    rotation::run(&app.store, &app.vault, &rotation.id, |_, _| {}).await
                {
                    tracing::error!(error = %err, "key rotation failed; it resumes at the next start");
                }
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %err, "cannot check for an interrupted key rotation")
            }
        }
    });
}

/// Prunes old log entries and execution records now and then.
async fn retention_loop(app: Arc<App>, shutdown: CancellationToken) {
    loop {
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(RETENTION_INTERVAL) => {}
        }
        if let Err(err) = apply_retention(&app).await {
            tracing::warn!(error = %err, "retention failed; will retry");
        }
    }
}

/// Applies the configured retention of logs and execution records once; returns how
/// many rows went.
pub async fn apply_retention(app: &App) -> anyhow::Result<usize> {
    let cutoff = now() - chrono::Duration::days(app.config.log_retention_days);
    let mut removed =
        log_store::prune(&app.store, app.config.log_retention_per_integration, cutoff).await?;
    let outbound = &app.config.outbound;
    let cutoff = now() - chrono::Duration::days(outbound.execution_retention_days);
    removed += crate::store::executions::prune(
        &app.store,
        outbound.execution_retention_per_integration,
        cutoff,
    )
    .await?;
    // Sync run history: as long and as many per integration as execution records.
    removed += crate::store::syncs::prune_runs(
        &app.store,
        outbound.execution_retention_per_integration,
        cutoff,
    )
    .await?;
    let cutoff = now() - chrono::Duration::days(app.config.webhooks.retention_days);
    removed += crate::store::webhooks::prune_attempts(&app.store, cutoff).await?;
    removed += crate::store::events::prune(&app.store, cutoff).await?;
    // Health buckets: minutes serve the shortest window, hours the longest; keep an hour
    // beyond each so a window's first bucket is never cut mid-read.
    use crate::domain::health::HealthWindow;
    for window in [HealthWindow::Hour, HealthWindow::Week] {
        let cutoff = now() - window.duration() - chrono::Duration::hours(1);
        removed +=
            crate::store::health::prune_buckets(&app.store, window.span_seconds(), cutoff).await?;
    }
    if removed > 0 {
        tracing::debug!(
            removed,
            "pruned old log entries, execution records, sync runs, events, attempts and health buckets"
        );
    }
    Ok(removed)
}

/// Registers for SIGINT and SIGTERM now (so a signal that arrives before the returned
/// future is first polled is not lost) and resolves when one arrives.
pub fn termination_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let term = signal(SignalKind::terminate());
        let int = signal(SignalKind::interrupt());
        async move {
            match (term, int) {
                (Ok(mut term), Ok(mut int)) => {
                    tokio::select! {
                        _ = term.recv() => {}
                        _ = int.recv() => {}
                    }
                }
                _ => {
                    tracing::warn!("cannot listen for SIGTERM; only Ctrl-C stops the server");
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
