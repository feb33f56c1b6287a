//! The PostgreSQL NOTIFY relay's limits (bench/README.md, "Scale-out"): two servers on
//! one fresh database in one process. Live events (log entries of a given size) are
//! published on replica A's bus at fixed rates and flat out for 5 s each, and counted and
//! timed on replica B's bus: what B got of what A sent, and the A→B latency (p50/p99).
//! Then the notification queue's use.
//!
//! Usage: `cargo run --release --example notify_relay [ADMIN_URL]`
//! (default postgres://postgres@127.0.0.1:5432/postgres; it creates and drops a database).
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use diesel_async::RunQueryDsl;
use patchbay::config::{Config, Settings};
use patchbay::events::BusEvent;
use patchbay::store::logs::LogRow;

const RUN: Duration = Duration::from_secs(5);

#[derive(diesel::QueryableByName)]
struct Number {
    #[diesel(sql_type = diesel::sql_types::Double)]
    value: f64,
}

async fn scalar(url: &str, sql: &str) -> f64 {
    let mut conn = patchbay::store::connect_pg(url).await.unwrap();
    diesel::sql_query(sql)
        .get_result::<Number>(&mut conn)
        .await
        .unwrap()
        .value
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn entry(message: String) -> BusEvent {
    BusEvent::Log(Box::new(LogRow {
        id: patchbay::ids::new_id(patchbay::ids::IdKind::Log),
        project_id: "prj_bench".into(),
        integration_id: None,
        level: "INFO".into(),
        level_rank: 1,
        message,
        metadata: "{}".into(),
        created_at: patchbay::store::now(),
    }))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("patchbay_relay_{}", uuid::Uuid::new_v4().simple());
    let mut conn = patchbay::store::connect_pg(&admin).await?;
    diesel::sql_query(format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await?;
    let mut url = url::Url::parse(&admin)?;
    url.set_path(&name);
    let url = url.to_string();
    let dir = tempfile::tempdir()?;
    let settings = Settings {
        listen: Some("127.0.0.1:0".parse()?),
        database_url: Some(url.clone()),
        data_dir: Some(dir.path().to_path_buf()),
        // B's subscriber must not lag: what is measured is the relay.
        event_buffer: Some(1 << 20),
        log_level: Some("error".into()),
        ..Settings::default()
    };
    let a = patchbay::server::start(Config::from_settings(settings.clone())?).await?;
    let b = patchbay::server::start(Config::from_settings(settings)?).await?;
    // Both listeners up, and past the relay's first look for peers.
    while scalar(
        &url,
        "SELECT count(*)::float8 AS value FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN patchbay_bus%'",
    )
    .await
        < 2.0
    {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    a.app.events.publish(entry("warm-up".into()));
    tokio::time::sleep(Duration::from_millis(2500)).await;

    let epoch = Instant::now();
    println!(
        "| entry size | offered/s | sent | received on B | lost | received/s | p50 ms | p99 ms |"
    );
    println!("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for size in [256usize, 2048] {
        for rate in [1_000u64, 5_000, 20_000, 0] {
            let run = format!("{size}-{rate}");
            let mut bus = b.app.events.subscribe();
            let latencies = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
            let last_arrival = Arc::new(AtomicU64::new(0));
            let counter = {
                let (latencies, last_arrival, run) =
                    (latencies.clone(), last_arrival.clone(), run.clone());
                tokio::spawn(async move {
                    loop {
                        let event = match bus.recv().await {
                            Ok(event) => event,
                            Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                            Err(_) => return,
                        };
                        let BusEvent::Log(row) = &*event else {
                            continue;
                        };
                        let mut parts = row.message.splitn(3, ':');
                        if parts.next() != Some(run.as_str()) {
                            continue;
                        }
                        let sent: u64 = parts.next().and_then(|s| s.parse().ok()).unwrap_or(0);
                        let now = epoch.elapsed().as_micros() as u64;
                        latencies.lock().unwrap().push(now.saturating_sub(sent));
                        last_arrival.store(now, Ordering::Relaxed);
                    }
                })
            };
            let padding = "x".repeat(size.saturating_sub(200));
            let started = Instant::now();
            let mut sent = 0u64;
            while started.elapsed() < RUN {
                // Fixed rate: catch up to where the clock says we should be, every ms.
                let due = if rate == 0 {
                    sent + 1000
                } else {
                    (started.elapsed().as_secs_f64() * rate as f64) as u64
                };
                while sent < due {
                    let now = epoch.elapsed().as_micros();
                    a.app
                        .events
                        .publish(entry(format!("{run}:{now}:{padding}")));
                    sent += 1;
                }
                if rate == 0 {
                    tokio::task::yield_now().await;
                } else {
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
            }
            let sending = started.elapsed();
            // Stragglers: until nothing arrives for a second.
            loop {
                let before = latencies.lock().unwrap().len();
                tokio::time::sleep(Duration::from_secs(1)).await;
                if latencies.lock().unwrap().len() == before {
                    break;
                }
            }
            counter.abort();
            let mut got = latencies.lock().unwrap().clone();
            got.sort_unstable();
            let received = got.len() as u64;
            let span = Duration::from_micros(AtomicU64::load(&last_arrival, Ordering::Relaxed))
                .saturating_sub(started.duration_since(epoch))
                .max(sending);
            println!(
                "| {size} B | {} | {sent} | {received} | {:.1} % | {:.0} | {:.1} | {:.1} |",
                if rate == 0 {
                    "flat out".to_owned()
                } else {
                    rate.to_string()
                },
                100.0 * (sent - received.min(sent)) as f64 / sent.max(1) as f64,
                received as f64 / span.as_secs_f64(),
                percentile(&got, 0.50),
                percentile(&got, 0.99),
            );
        }
    }
    let usage = scalar(&url, "SELECT pg_notification_queue_usage() AS value").await;
    println!(
        "\nnotification queue in use after the runs: {:.6} %",
        usage * 100.0
    );
    b.stop().await;
    a.stop().await;
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await?;
    Ok(())
}
