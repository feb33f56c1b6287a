//! End-to-end tests over real HTTP and WebSocket against a server on 127.0.0.1:0,
//! on SQLite and (when PATCHBAY_TEST_DATABASE_URL is set) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

mod architecture;
mod auth;
mod browser;
mod cli;
mod compare;
mod credentials;
mod http_spec;
mod integrations;
mod monitoring;
mod oauth;
mod observability;
mod operations;
mod outbound;
mod projects;
mod replicas;
mod subscriptions;
mod support;
mod sync;
mod templates;
mod webhooks;
