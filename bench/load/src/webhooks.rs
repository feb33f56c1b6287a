//! `webhooks`: publish → receive through the webhook pipeline. A built-in receiver answers
//! 204 on one path per endpoint; keep-alive publishers make the events, flat out or at a
//! fixed rate: `publishEvent` with ~100-byte payloads, or (`--via integration-changes`)
//! `updateIntegration` of one integration each, whose `integration.updated` events take the
//! journal and outbox path of every ordinary mutation.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::bail;
use clap::Args;
use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::gql::{Gql, lit};
use crate::report::{self, Table, histogram, int, progress, rate};
use crate::server::{CpuSample, Target};
use crate::sims::Receiver;

#[derive(Args, Debug)]
pub struct WebhooksArgs {
    /// Webhook endpoints (each subscribed to `custom.*`, each its own receiver path).
    #[arg(long, default_value_t = 1)]
    endpoints: usize,
    /// Events to publish [default: 2,000 up to 10 endpoints, else 20,000 / endpoints].
    #[arg(long)]
    events: Option<usize>,
    /// `flat-out`, or events per second (e.g. 200).
    #[arg(long, default_value = "flat-out")]
    rate: String,
    /// Keep-alive publishers (concurrent publishEvent / updateIntegration calls).
    #[arg(long, default_value_t = 32)]
    publishers: usize,
    /// Stop waiting for deliveries after this many seconds without one.
    #[arg(long, default_value_t = 30)]
    drain_timeout: u64,
    /// What makes the events: `publish` (publishEvent, `custom.load`) or
    /// `integration-changes` (updateIntegration, `integration.updated`).
    #[arg(long, value_enum, default_value_t = Via::Publish)]
    via: Via,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    Publish,
    IntegrationChanges,
}

const PUBLISH: &str =
    "mutation($i: PublishEventInput!) { publishEvent(input: $i) { event { id } } }";
const UPDATE: &str = "mutation($i: UpdateIntegrationInput!) { updateIntegration(input: $i) { integration { id version } } }";

/// An accepted event's times, µs since the epoch: request sent, answer read.
#[derive(Clone, Copy)]
struct Timing {
    sent: u64,
    answered: u64,
}

/// One publish request of event `i` and what its answer is matched on (sims::Arrival::key).
struct Publisher {
    via: Via,
    project: String,
    /// `integration-changes`: each publisher changes its own integration, so concurrent
    /// updates never conflict on a version.
    integration: Option<String>,
}

impl Publisher {
    fn body(&self, i: usize, sent_micros: u64) -> Vec<u8> {
        let request = match self.via {
            Via::Publish => json!({
                "query": PUBLISH,
                "variables": { "i": { "projectId": self.project, "type": "custom.load",
                    "data": { "i": i, "sentMicros": sent_micros, "pad": "patchbay-load-payload-padding-0123456789" } } },
            }),
            Via::IntegrationChanges => json!({
                "query": UPDATE,
                "variables": { "i": { "id": self.integration,
                    "description": format!("load change {i} sent at {sent_micros} µs") } },
            }),
        };
        serde_json::to_vec(&request).expect("JSON")
    }

    fn key(&self, answer: &Value) -> anyhow::Result<String> {
        let key = match self.via {
            Via::Publish => answer["data"]["publishEvent"]["event"]["id"]
                .as_str()
                .map(str::to_owned),
            Via::IntegrationChanges => {
                let changed = &answer["data"]["updateIntegration"]["integration"];
                changed["id"]
                    .as_str()
                    .zip(changed["version"].as_i64())
                    .map(|(id, version)| format!("{id}@{version}"))
            }
        };
        match key {
            Some(key) => Ok(key),
            None => bail!("{answer}"),
        }
    }
}

pub async fn run(target: &Target, args: WebhooksArgs) -> anyhow::Result<Table> {
    let per_second: Option<f64> = match args.rate.as_str() {
        "flat-out" | "flatout" | "max" => None,
        r => Some(r.parse().map_err(|_| {
            anyhow::anyhow!("--rate takes `flat-out` or events per second, not {r}")
        })?),
    };
    let events = args.events.unwrap_or(if args.endpoints <= 10 {
        2000
    } else {
        (20_000 / args.endpoints).max(20)
    });
    let epoch = Instant::now();
    let receiver = Receiver::start(epoch).await?;
    let gql = Gql::new(target.graphql_url(), &target.token);
    let project = gql.create_project("load webhooks").await?;
    let publisher_count = args.publishers.max(1);
    let (event_types, integrations) = match args.via {
        Via::Publish => ("custom.*", vec![None; publisher_count]),
        Via::IntegrationChanges => {
            let (ids, _) = gql
                .create_integrations(publisher_count, 100, 1, |i| {
                    format!(
                        "{{ projectId: {}, name: \"load {i}\", category: CUSTOM }}",
                        lit(&project)
                    )
                })
                .await?;
            ("integration.updated", ids.into_iter().map(Some).collect())
        }
    };
    for n in 0..args.endpoints {
        gql.run(
            "mutation($i: CreateWebhookInput!) { createWebhook(input: $i) { webhook { id } } }",
            json!({ "i": { "projectId": project, "url": receiver.url(n), "eventTypes": [event_types] } }),
        )
        .await?;
    }
    progress(format!(
        "publishing {events} events ({}) to {} endpoint(s), {}",
        source(args.via),
        args.endpoints,
        per_second.map_or("flat out".to_owned(), |r| format!("{r}/s"))
    ));

    let next = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let first_error: Arc<Mutex<Option<String>>> = Arc::default();
    let accepted: Arc<Mutex<Vec<(String, Timing)>>> = Arc::default();
    let publish_latency = Arc::new(Mutex::new(histogram()));
    let cpu0 = CpuSample::take(target);
    let start = Instant::now();
    let start_us = report::since(epoch);
    let publishers = integrations.into_iter().map(|integration| {
        let (gql, next, failed, first_error, accepted, publish_latency) = (
            gql.clone(),
            next.clone(),
            failed.clone(),
            first_error.clone(),
            accepted.clone(),
            publish_latency.clone(),
        );
        let publisher = Publisher {
            via: args.via,
            project: project.clone(),
            integration,
        };
        async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= events {
                    break;
                }
                if let Some(r) = per_second {
                    tokio::time::sleep_until(
                        (start + Duration::from_secs_f64(i as f64 / r)).into(),
                    )
                    .await;
                }
                let sent = report::since(epoch);
                let body = publisher.body(i, sent);
                let sent_at = Instant::now();
                let result = async {
                    let bytes = gql.post(body).await?.bytes().await?;
                    publisher.key(&serde_json::from_slice(&bytes)?)
                }
                .await;
                match result {
                    Ok(key) => {
                        let at = report::since(epoch);
                        report::record(&mut publish_latency.lock().unwrap(), sent_at.elapsed());
                        accepted
                            .lock()
                            .unwrap()
                            .push((key, Timing { sent, answered: at }));
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        first_error.lock().unwrap().get_or_insert(e.to_string());
                    }
                }
            }
        }
    });
    futures_util::stream::iter(publishers)
        .for_each_concurrent(None, |p| p)
        .await;
    let publish_time = start.elapsed();
    let ok = accepted.lock().unwrap().len();
    let expected = (ok * args.endpoints) as u64;
    progress(format!(
        "{ok} accepted in {:.1} s; waiting for {expected} deliveries",
        publish_time.as_secs_f64()
    ));

    let mut last = receiver.state.count.load(Ordering::Relaxed);
    let mut last_progress = Instant::now();
    while last < expected {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let now = receiver.state.count.load(Ordering::Relaxed);
        if now > last {
            last = now;
            last_progress = Instant::now();
        } else if last_progress.elapsed() > Duration::from_secs(args.drain_timeout) {
            break;
        }
    }
    let cpu1 = CpuSample::take(target);
    let rss = target.rss_kb();

    let arrivals = std::mem::take(&mut *receiver.state.arrivals.lock().unwrap());
    let accepted_at: HashMap<String, Timing> = accepted.lock().unwrap().drain(..).collect();
    let mut send_to_arrival = histogram();
    let mut accept_to_arrival = histogram();
    let mut before_accept = 0u64;
    let mut seen = HashSet::new();
    let mut duplicates = 0u64;
    let mut last_arrival = start_us;
    for a in &arrivals {
        last_arrival = last_arrival.max(a.arrived);
        if !seen.insert((a.endpoint, a.key.as_str())) {
            duplicates += 1;
        }
        if let Some(&Timing {
            sent,
            answered: acc,
        }) = accepted_at.get(&a.key)
        {
            send_to_arrival.saturating_record(a.arrived.saturating_sub(sent).max(1));
            if a.arrived < acc {
                before_accept += 1;
            }
            accept_to_arrival.saturating_record(a.arrived.saturating_sub(acc).max(1));
        }
    }
    let delivered = arrivals.len() as u64 - duplicates;
    let delivery_time = Duration::from_micros(last_arrival - start_us);

    let mode = per_second.map_or("flat out".to_owned(), |r| format!("{r}/s"));
    let mut t = Table::new(format!(
        "webhooks: {} endpoint(s), {mode}, {}",
        args.endpoints,
        source(args.via)
    ));
    t.row("server", &target.describe);
    t.row(
        "parameters",
        format!(
            "{} events, {publisher_count} keep-alive publishers, receiver answers 204",
            int(events as u64),
        ),
    );
    t.row(
        "events accepted",
        format!(
            "{} in {:.2} s = {} ({} failed{})",
            int(ok as u64),
            publish_time.as_secs_f64(),
            rate(ok as f64, publish_time),
            failed.load(Ordering::Relaxed),
            first_error
                .lock()
                .unwrap()
                .as_ref()
                .map(|e| format!(": {}", e.chars().take(200).collect::<String>()))
                .unwrap_or_default()
        ),
    );
    t.row(
        match args.via {
            Via::Publish => "publishEvent p50 / p99 / max",
            Via::IntegrationChanges => "updateIntegration p50 / p99 / max",
        },
        report::p50_p99_max(&publish_latency.lock().unwrap()),
    );
    t.row(
        "deliveries (until the last arrived)",
        format!(
            "{} of {} in {:.2} s = {} ({} missing, {} duplicates)",
            int(delivered),
            int(expected),
            delivery_time.as_secs_f64(),
            rate(delivered as f64, delivery_time),
            int(expected.saturating_sub(delivered)),
            duplicates
        ),
    );
    t.row(
        "accept→arrival p50 / p99 / max",
        format!(
            "{} ({} arrived before the answer was read)",
            report::p50_p99_max(&accept_to_arrival),
            before_accept
        ),
    );
    t.row(
        "send→arrival p50 / p99 / max",
        report::p50_p99_max(&send_to_arrival),
    );
    t.row("server CPU", cpu1.describe_since(&cpu0));
    t.row(
        "server RSS at the end",
        rss.map_or("n/a".to_owned(), report::mb),
    );
    Ok(t)
}

fn source(via: Via) -> &'static str {
    match via {
        Via::Publish => "publishEvent with ~100-byte data",
        Via::IntegrationChanges => "updateIntegration, one integration per publisher",
    }
}
