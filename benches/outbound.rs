//! Outbound micro-benchmarks: the SSRF guard's cost per call (address rules, a URL with a
//! literal address, a URL whose host is resolved) and joining a path under a base URL.
//! Run with `cargo bench --bench outbound`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use std::net::IpAddr;

use criterion::{Criterion, criterion_group, criterion_main};
use patchbay::outbound::ssrf::{SsrfPolicy, blocked_rule, check_literal, check_url};
use patchbay::outbound::target;

fn ssrf(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let strict = SsrfPolicy::default();
    let public: IpAddr = "93.184.215.14".parse().expect("ip");
    c.bench_function("ssrf: classify one address", |b| {
        b.iter(|| blocked_rule(std::hint::black_box(public)))
    });
    let literal = url::Url::parse("https://93.184.215.14/v1/items").expect("url");
    c.bench_function("ssrf: per-call check (literal address, no DNS)", |b| {
        b.iter(|| check_literal(&literal, &strict).map(|h| h.is_none()))
    });
    // `localhost` resolves from /etc/hosts: the resolver's cost without network latency.
    // The engine pays it once per new connection (in the client's resolver), not per call.
    let named = url::Url::parse("http://localhost:8080/v1/items").expect("url");
    c.bench_function("ssrf: check URL with a resolved host (localhost)", |b| {
        b.iter(|| runtime.block_on(check_url(&named, &strict)))
    });
    c.bench_function("target: join path under base URL", |b| {
        b.iter(|| {
            target::resolve(
                Some("https://api.example.com/rest/api/3/"),
                std::hint::black_box("/search?jql=project%3DABC&maxResults=50"),
                false,
            )
        })
    });
}

criterion_group!(benches, ssrf);
criterion_main!(benches);
