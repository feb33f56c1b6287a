//! Prometheus metrics of this process (`GET /metrics`, text exposition format), with
//! prometheus-client: one registry per server, no global state. Counters and histograms
//! are recorded where things happen; gauges that describe the store (health statuses,
//! job queue) are read at scrape time.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;
type HistogramFamily = Family<Labels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// The metrics of one server process.
pub struct Telemetry {
    registry: Registry,
    http_requests: Family<Labels, Counter>,
    http_duration: HistogramFamily,
    graphql_operations: Family<Labels, Counter>,
    graphql_compiled_answers: Counter,
    executions: Family<Labels, Counter>,
    deliveries: Family<Labels, Counter>,
    health_checks: Family<Labels, Counter>,
    health_check_duration: Histogram,
    health_check_delay: Histogram,
    /// Read at scrape time.
    pub health_status: Family<Labels, Gauge>,
    pub subscriptions_open: Gauge,
    pub dispatch_leader: Gauge,
    pub jobs_queued: Family<Labels, Gauge>,
    pub jobs_oldest_age: Family<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>,
}

impl Default for Telemetry {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("patchbay");
        let http_requests = Family::<Labels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            http_requests.clone(),
        );
        let http_duration: HistogramFamily = Family::new_with_constructor(latency_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request latency by route",
            http_duration.clone(),
        );
        let graphql_operations = Family::<Labels, Counter>::default();
        registry.register(
            "graphql_operations",
            "GraphQL operations over HTTP by type and error code (OK without errors)",
            graphql_operations.clone(),
        );
        let graphql_compiled_answers = Counter::default();
        registry.register(
            "graphql_compiled_answers",
            "GraphQL queries answered by a compiled plan instead of the executor",
            graphql_compiled_answers.clone(),
        );
        let executions = Family::<Labels, Counter>::default();
        registry.register(
            "executions",
            "Outgoing calls by integration category and error class (none: succeeded)",
            executions.clone(),
        );
        let deliveries = Family::<Labels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts by outcome",
            deliveries.clone(),
        );
        let health_checks = Family::<Labels, Counter>::default();
        registry.register(
            "health_checks",
            "Health checks run by result",
            health_checks.clone(),
        );
        let health_check_duration = latency_histogram();
        registry.register(
            "health_check_duration_seconds",
            "Health check latency",
            health_check_duration.clone(),
        );
        // 1 ms … ~65 s: a scheduler that falls behind shows here first.
        let health_check_delay = Histogram::new(exponential_buckets(0.001, 2.0, 17));
        registry.register(
            "health_check_delay_seconds",
            "How late scheduled health checks started after they were due",
            health_check_delay.clone(),
        );
        let health_status = Family::<Labels, Gauge>::default();
        registry.register(
            "integrations_health",
            "Integrations by health status",
            health_status.clone(),
        );
        let subscriptions_open = Gauge::default();
        registry.register(
            "subscriptions_open",
            "Open GraphQL subscription streams of this process",
            subscriptions_open.clone(),
        );
        let dispatch_leader = Gauge::default();
        registry.register(
            "dispatch_leader",
            "1 while this process dispatches the event outbox (one replica at a time)",
            dispatch_leader.clone(),
        );
        let jobs_queued = Family::<Labels, Gauge>::default();
        registry.register(
            "jobs_queued",
            "Jobs waiting in the durable queue by kind",
            jobs_queued.clone(),
        );
        let jobs_oldest_age = Family::<Labels, Gauge<f64, std::sync::atomic::AtomicU64>>::default();
        registry.register(
            "jobs_oldest_age_seconds",
            "Age of the oldest due job by kind",
            jobs_oldest_age.clone(),
        );
        Telemetry {
            registry,
            http_requests,
            http_duration,
            graphql_operations,
            graphql_compiled_answers,
            executions,
            deliveries,
            health_checks,
            health_check_duration,
            health_check_delay,
            health_status,
            subscriptions_open,
            dispatch_leader,
            jobs_queued,
            jobs_oldest_age,
        }
    }
}

impl Telemetry {
    pub fn http_request(&self, route: &str, method: &str, status: u16, seconds: f64) {
        self.http_requests
            .get_or_create(&vec![
                ("route", route.to_owned()),
                ("method", method.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
        self.http_duration
            .get_or_create(&vec![("route", route.to_owned())])
            .observe(seconds);
    }

    pub fn graphql_operation(&self, kind: &str, code: &str) {
        self.graphql_operations
            .get_or_create(&vec![("type", kind.to_owned()), ("code", code.to_owned())])
            .inc();
    }

    pub fn graphql_compiled_answer(&self) {
        self.graphql_compiled_answers.inc();
    }

    pub fn execution(&self, category: &str, error_class: Option<&str>) {
        self.executions
            .get_or_create(&vec![
                ("category", category.to_owned()),
                ("error_class", error_class.unwrap_or("none").to_owned()),
            ])
            .inc();
    }

    pub fn delivery(&self, outcome: &str) {
        self.deliveries
            .get_or_create(&vec![("outcome", outcome.to_owned())])
            .inc();
    }

    pub fn health_check(&self, ok: bool, seconds: f64) {
        self.health_checks
            .get_or_create(&vec![(
                "result",
                if ok { "pass" } else { "fail" }.to_owned(),
            )])
            .inc();
        self.health_check_duration.observe(seconds);
    }

    pub fn health_check_delay(&self, seconds: f64) {
        self.health_check_delay.observe(seconds);
    }

    /// The text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Err(err) = encode(&mut out, &self.registry) {
            tracing::warn!(error = %err, "encoding metrics failed");
        }
        out
    }
}
