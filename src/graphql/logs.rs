//! Log entries in the API: listing and the live `logs` subscription.

use async_graphql::dataloader::DataLoader;
use async_graphql::{Context, ID, Json, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::Stream;

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::{ApiError, ApiResult};
use super::integrations::Integration;
use super::loaders::IntegrationLoader;
use super::loaders::ProjectLoader;
use super::projects::Project;
use super::{app, caller};
use crate::domain::logs::{self as domain, LogFilter, LogLevel, LogSelection};
use crate::events::BusEvent;
use crate::ids::IdKind;

/// One log entry.
pub struct LogEntry(pub domain::LogEntry);

impl ConnectionNode for LogEntry {
    const IMMEDIATE_FIELDS: &'static [&'static str] =
        &["id", "integrationId", "level", "message", "metadata", "at"];
}

#[Object]
impl LogEntry {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.0.project_id.clone())
            .await?
            .map(Project))
    }
    /// The integration it is about; null for project-level entries or once deleted.
    async fn integration(&self, ctx: &Context<'_>) -> ApiResult<Option<Integration>> {
        let Some(id) = &self.0.integration_id else {
            return Ok(None);
        };
        let loader = ctx.data_unchecked::<DataLoader<IntegrationLoader>>();
        Ok(loader.load_one(id.clone()).await?.map(Integration))
    }
    /// The integration's ID, kept after the integration is deleted.
    async fn integration_id(&self) -> Option<ID> {
        self.0.integration_id.clone().map(ID)
    }
    async fn level(&self) -> LogLevel {
        self.0.level
    }
    async fn message(&self) -> &str {
        &self.0.message
    }
    /// Structured details (a JSON object).
    async fn metadata(&self) -> Json<&serde_json::Value> {
        Json(&self.0.metadata)
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
}

pub(crate) async fn log_connection(
    ctx: &Context<'_>,
    selection: &LogSelection,
    args: PageArgs,
) -> ApiResult<IdConnection<LogEntry>> {
    let request = args.request(ctx, IdKind::Log)?;
    let page = selection.page(&app(ctx).store, &request).await?;
    Ok(connection(page, &request, |e| e.id.clone(), LogEntry))
}

#[derive(Default)]
pub struct LogQuery;

#[Object]
impl LogQuery {
    /// Stored log entries the caller can see, oldest first.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn logs(
        &self,
        ctx: &Context<'_>,
        filter: Option<LogFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<LogEntry>> {
        let filter = filter.unwrap_or_default();
        let selection = LogSelection::visible(&app(ctx).store, caller(ctx)?, filter).await?;
        log_connection(ctx, &selection, PageArgs::forward(first, after)).await
    }
}

#[derive(Default)]
pub struct LogSubscription;

#[Subscription]
impl LogSubscription {
    /// Log entries as they are written, filtered by project, integration and level.
    /// If this subscriber falls behind, it receives a LAGGED error saying how many
    /// entries it missed, and the stream ends.
    async fn logs(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        integration_id: Option<ID>,
        min_level: Option<LogLevel>,
        #[graphql(desc = "Text in the message or metadata, any case.")] search: Option<String>,
    ) -> Result<impl Stream<Item = async_graphql::Result<LogEntry>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let filter = LogFilter {
            project_id,
            integration_id,
            min_level,
            search,
            since: None,
            until: None,
        };
        let selection = LogSelection::visible(&app.store, caller(ctx)?, filter).await?;
        let receiver = app.events.subscribe();
        Ok(super::live(receiver, move |event| match event {
            BusEvent::Log(row) => selection.live(row).map(LogEntry),
            _ => None,
        }))
    }
}
