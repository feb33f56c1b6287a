//! `stats`: the numbers of a project (or of everything an unscoped token sees), as a
//! query and as a live tick.

use std::time::Duration;

use async_graphql::{Context, ID, Object, Subscription};
use futures_util::{FutureExt, Stream};

use super::errors::{ApiError, ApiResult};
use super::{app, caller};
use crate::domain::executions::TimeWindow;
use crate::domain::stats::{self as domain, Stats};
use crate::error::AppError;

#[derive(Default)]
pub struct StatsQuery;

#[Object]
impl StatsQuery {
    /// Integrations, calls, webhooks, deliveries and alerts in numbers, of a project or
    /// of every project the caller sees (global for unscoped tokens).
    async fn stats(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        window: Option<TimeWindow>,
    ) -> ApiResult<Stats> {
        Ok(domain::get(
            &app(ctx).store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            window.unwrap_or_default(),
        )
        .boxed()
        .await?)
    }
}

#[derive(Default)]
pub struct StatsSubscription;

#[Subscription]
impl StatsSubscription {
    /// Fresh stats every `everySeconds` (1-3600, default 5), the first at once; computed
    /// once per scope and tick however many subscribers share it.
    async fn stats(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        every_seconds: Option<i32>,
    ) -> Result<impl Stream<Item = async_graphql::Result<Stats>> + use<>, ApiError> {
        let every = every_seconds.unwrap_or(5);
        if !(1..=3600).contains(&every) {
            return Err(AppError::invalid("everySeconds", "must be 1-3600").into());
        }
        let app = app(ctx).clone();
        let projects = domain::scope(
            &app.store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        let every = i64::from(every);
        Ok(futures_util::stream::unfold(true, move |first| {
            let app = app.clone();
            let projects = projects.clone();
            async move {
                if !first {
                    // Wake on the tick boundary, so every subscriber of a scope shares it.
                    let now_ms = chrono::Utc::now().timestamp_millis();
                    let wait = every * 1000 - now_ms.rem_euclid(every * 1000);
                    tokio::time::sleep(Duration::from_millis(wait as u64)).await;
                }
                let tick = chrono::Utc::now().timestamp().div_euclid(every);
                let stats = app
                    .stats_ticks
                    .get(&app.store, projects.as_deref(), every, tick)
                    .await
                    .map(|s| (*s).clone())
                    .map_err(super::errors::to_graphql);
                Some((stats, false))
            }
        }))
    }
}
