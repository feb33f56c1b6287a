//! `incoming`: provider webhooks posted to `/hooks/{integrationId}` (SHARED_TOKEN scheme),
//! each answered 202 once stored.

use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::Context;
use clap::Args;
use futures_util::StreamExt;
use serde_json::json;

use crate::gql::{Gql, lit};
use crate::report::{self, Table, histogram, int, progress, rate};
use crate::server::{CpuSample, Target};

#[derive(Args, Debug)]
pub struct IncomingArgs {
    /// Webhooks to post.
    #[arg(long, default_value_t = 4000)]
    requests: usize,
    /// Requests in flight (keep-alive connections).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
}

/// A fresh shared token per run (never a literal in the repo): clock and pid mixed.
pub(crate) fn fresh_secret() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!(
        "load-{:032x}",
        nanos ^ (u128::from(std::process::id()) << 64)
    )
}

pub async fn run(target: &Target, args: IncomingArgs) -> anyhow::Result<Table> {
    let gql = Gql::new(target.graphql_url(), &target.token);
    let project = gql.create_project("load incoming").await?;
    let (ids, _) = gql
        .create_integrations(1, 1, 1, |_| {
            format!(
                "{{ projectId: {}, name: \"Jenkins\", category: CI_CD }}",
                lit(&project)
            )
        })
        .await?;
    let integration = ids.into_iter().next().context("an integration")?;
    let secret = fresh_secret();
    gql.run(
        "mutation($i: SetIncomingWebhookInput!) { setIncomingWebhook(input: $i) { incomingWebhook { path } } }",
        json!({ "i": { "integrationId": integration, "scheme": "SHARED_TOKEN", "secret": secret } }),
    )
    .await?;
    let url = format!("{}/hooks/{integration}", target.base);
    progress(format!(
        "posting {} webhooks, {} in flight",
        args.requests, args.concurrency
    ));
    let latency = Arc::new(Mutex::new(histogram()));
    let cpu0 = CpuSample::take(target);
    let started = Instant::now();
    let statuses: Vec<u16> = futures_util::stream::iter(0..args.requests)
        .map(|i| {
            let (client, url, latency) = (gql.client.clone(), url.clone(), latency.clone());
            let secret = secret.clone();
            async move {
                let sent = Instant::now();
                let status = client
                    .post(&url)
                    .header("x-webhook-token", &secret)
                    .header("content-type", "application/json")
                    .body(format!(r#"{{"event":"build.finished","build":{i}}}"#))
                    .send()
                    .await
                    .map_or(0, |r| r.status().as_u16());
                if status == 202 {
                    report::record(&mut latency.lock().unwrap(), sent.elapsed());
                }
                status
            }
        })
        .buffer_unordered(args.concurrency.max(1))
        .collect()
        .await;
    let elapsed = started.elapsed();
    let cpu1 = CpuSample::take(target);
    let accepted = statuses.iter().filter(|s| **s == 202).count();
    let mut others: Vec<(u16, usize)> = Vec::new();
    for s in statuses.iter().filter(|s| **s != 202) {
        match others.iter_mut().find(|(code, _)| code == s) {
            Some(entry) => entry.1 += 1,
            None => others.push((*s, 1)),
        }
    }

    let mut t = Table::new(format!(
        "incoming: {} webhooks on /hooks/{{id}}",
        int(args.requests as u64)
    ));
    t.row("server", &target.describe);
    t.row(
        "parameters",
        format!(
            "SHARED_TOKEN scheme, ~45-byte JSON bodies, {} in flight",
            args.concurrency
        ),
    );
    t.row(
        "accepted (202, stored)",
        format!(
            "{} in {:.2} s = {}{}",
            int(accepted as u64),
            elapsed.as_secs_f64(),
            rate(accepted as f64, elapsed),
            if others.is_empty() {
                String::new()
            } else {
                format!("; other answers (status, count; 0 = no answer): {others:?}")
            }
        ),
    );
    t.row(
        "latency p50 / p99 / max",
        report::p50_p99_max(&latency.lock().unwrap()),
    );
    t.row("server CPU", cpu1.describe_since(&cpu0));
    t.row(
        "server RSS at the end",
        target.rss_kb().map_or("n/a".to_owned(), report::mb),
    );
    Ok(t)
}
