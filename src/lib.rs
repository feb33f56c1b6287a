//! patchbay: an integration hub. Register outside tools with encrypted credentials,
//! call them, watch their health, and stream what happens, from one GraphQL API.
//!
//! Layout: `config` → `store` (both backends) → `domain` (the rules) → `graphql`
//! (the API) → `http` (transports) → `server` (start/stop). `main.rs` is the CLI.

pub mod app;
pub mod config;
pub mod domain;
pub mod error;
pub mod events;
pub mod graphql;
pub mod http;
pub mod ids;
pub mod jobs;
pub mod outbound;
pub mod server;
pub mod store;
pub mod telemetry;
pub mod vault;

/// mimalloc instead of glibc's malloc: the list-page profile spent ~10% in glibc's
/// arena locking and `malloc_consolidate` under concurrent requests (bench/README.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;
