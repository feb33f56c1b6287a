//! GraphQL over HTTP as a user sends it: POST /graphql, bearer token, keep-alive.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use futures_util::StreamExt;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE};
use serde_json::{Value, json};

use crate::report::progress;

#[derive(Clone)]
pub struct Gql {
    pub client: reqwest::Client,
    url: String,
    auth: String,
}

/// A keep-alive HTTP/1 client (no proxy, no TLS: 127.0.0.1 only).
pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_idle_timeout(Duration::from_secs(300))
        .timeout(Duration::from_secs(120))
        .build()
        .expect("an HTTP client")
}

impl Gql {
    pub fn new(url: String, token: &str) -> Self {
        Self {
            client: http_client(),
            url,
            auth: format!("Bearer {token}"),
        }
    }

    /// Sends one operation; its `data`, or an error carrying the GraphQL errors.
    pub async fn run(&self, query: &str, variables: Value) -> anyhow::Result<Value> {
        let body = serde_json::to_vec(&json!({ "query": query, "variables": variables }))?;
        let response = self.post(body).await?;
        let status = response.status();
        let bytes = response.bytes().await?;
        let value: Value = serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "HTTP {status}: {}",
                String::from_utf8_lossy(&bytes[..bytes.len().min(500)])
            )
        })?;
        if let Some(errors) = value.get("errors") {
            bail!("GraphQL errors: {errors}");
        }
        Ok(value.get("data").cloned().unwrap_or(Value::Null))
    }

    /// A prepared body, for load loops that send the same bytes again and again.
    pub async fn post(&self, body: Vec<u8>) -> reqwest::Result<reqwest::Response> {
        self.client
            .post(&self.url)
            .header(AUTHORIZATION, &self.auth)
            .header(CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
    }

    /// Sends a prepared body and says whether it succeeded without GraphQL errors.
    pub async fn post_ok(&self, body: Vec<u8>) -> bool {
        let Ok(response) = self.post(body).await else {
            return false;
        };
        if !response.status().is_success() {
            return false;
        }
        match response.bytes().await {
            // Responses with errors carry an "errors" key; a data-only answer has none.
            Ok(bytes) => !bytes.windows(9).any(|w| w == b"\"errors\":"),
            Err(_) => false,
        }
    }

    pub async fn create_project(&self, name: &str) -> anyhow::Result<String> {
        let data = self
            .run(
                "mutation($i: CreateProjectInput!) { createProject(input: $i) { project { id } } }",
                json!({ "i": { "name": name } }),
            )
            .await?;
        data["createProject"]["project"]["id"]
            .as_str()
            .map(str::to_owned)
            .context("createProject returned no id")
    }

    /// Creates `count` integrations, `batch` `createIntegration` fields (aliases) per request
    /// and `parallel` requests in flight. `input(i)` is the i-th input as a GraphQL literal
    /// object. Returns the ids (in order) and the time it took.
    pub async fn create_integrations(
        &self,
        count: usize,
        batch: usize,
        parallel: usize,
        input: impl Fn(usize) -> String,
    ) -> anyhow::Result<(Vec<String>, Duration)> {
        let started = Instant::now();
        let batches: Vec<(usize, String)> = (0..count)
            .step_by(batch.max(1))
            .map(|first| {
                let last = (first + batch).min(count);
                let mut doc = String::from("mutation {");
                for i in first..last {
                    doc.push_str(&format!(
                        " c{i}: createIntegration(input: {}) {{ integration {{ id }} }}",
                        input(i)
                    ));
                }
                doc.push_str(" }");
                (first, doc)
            })
            .collect();
        let done = Arc::new(AtomicUsize::new(0));
        let mut results = futures_util::stream::iter(batches)
            .map(|(first, doc)| {
                let gql = self.clone();
                let done = done.clone();
                async move {
                    let data = gql.run(&doc, json!({})).await?;
                    let n = doc.matches("createIntegration(").count();
                    let ids = (first..first + n)
                        .map(|i| {
                            data[format!("c{i}")]["integration"]["id"]
                                .as_str()
                                .map(str::to_owned)
                                .context("createIntegration returned no id")
                        })
                        .collect::<anyhow::Result<Vec<_>>>()?;
                    let total = done.fetch_add(n, Ordering::Relaxed) + n;
                    if total % 5000 < n {
                        progress(format!("created {total} integrations"));
                    }
                    anyhow::Ok((first, ids))
                }
            })
            .buffer_unordered(parallel.max(1))
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<anyhow::Result<Vec<_>>>()?;
        results.sort_by_key(|(first, _)| *first);
        let ids = results.into_iter().flat_map(|(_, ids)| ids).collect();
        Ok((ids, started.elapsed()))
    }
}

/// A JSON string as a GraphQL string literal (same escapes for what the tool sends).
pub fn lit(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}
