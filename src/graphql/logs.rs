//! Log entries in the API: listing and the live `logs` subscription.

use std::collections::HashMap;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{Context, ID, InputObject, Json, Object, Subscription};
use chrono::{DateTime, Utc};
use futures_util::{Stream, StreamExt};
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

use super::connection::{IdConnection, PageArgs, connection};
use super::integrations::Integration;
use super::projects::{Project, ProjectLoader};
use super::{app, caller};
use crate::domain::access::Caller;
use crate::domain::integrations as integration_domain;
use crate::domain::logs::{self as domain, LogLevel};
use crate::domain::projects as project_domain;
use crate::error::{ApiError, ApiResult, AppError};
use crate::events::BusEvent;
use crate::ids::IdKind;
use crate::store::Store;
use crate::store::logs::{self as log_store, LogQuery as StoreLogQuery};

/// One log entry.
pub struct LogEntry(pub domain::LogEntry);

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

/// Loads integrations by ID in one query per batch.
pub struct IntegrationLoader(pub Store);

impl Loader<String> for IntegrationLoader {
    type Value = integration_domain::Integration;
    type Error = async_graphql::Error;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Self::Value>, Self::Error> {
        let found = integration_domain::get_many_unchecked(&self.0, keys).await?;
        Ok(found.into_iter().map(|i| (i.id.clone(), i)).collect())
    }
}

/// Which log entries to list.
#[derive(Debug, Default, InputObject)]
pub struct LogFilter {
    pub project_id: Option<ID>,
    pub integration_id: Option<ID>,
    /// Entries at this level or above.
    pub min_level: Option<LogLevel>,
}

/// The store query for what a caller asked and may see (NOT_FOUND for invisible IDs).
async fn visible_query(
    store: &Store,
    caller: &Caller,
    project_id: Option<&str>,
    integration_id: Option<&str>,
    min_level: Option<LogLevel>,
) -> Result<StoreLogQuery, AppError> {
    if let Some(id) = project_id {
        project_domain::get(store, caller, id).await?;
    }
    if let Some(id) = integration_id {
        integration_domain::get(store, caller, id).await?;
    }
    Ok(StoreLogQuery {
        project_ids: match project_id {
            Some(id) => Some(vec![id.to_owned()]),
            None => caller.principal.project_restriction(),
        },
        integration_id: integration_id.map(str::to_owned),
        min_rank: min_level.map(LogLevel::rank),
    })
}

pub(crate) async fn log_connection(
    ctx: &Context<'_>,
    query: &StoreLogQuery,
    args: PageArgs,
) -> ApiResult<IdConnection<LogEntry>> {
    let request = args.request(ctx, IdKind::Log)?;
    let page = log_store::page(&app(ctx).store, query, &request)
        .await
        .map_err(AppError::from)?;
    let page = page
        .try_map(domain::LogEntry::from_row)
        .map_err(AppError::from)?;
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
        let query = visible_query(
            &app(ctx).store,
            caller(ctx)?,
            filter.project_id.as_ref().map(|id| id.as_str()),
            filter.integration_id.as_ref().map(|id| id.as_str()),
            filter.min_level,
        )
        .await?;
        log_connection(ctx, &query, PageArgs::forward(first, after)).await
    }
}

#[derive(Default)]
pub struct LogSubscription;

#[Subscription]
impl LogSubscription {
    /// Log entries as they are written, filtered by project, integration and level.
    /// If this subscriber falls behind, it receives a LAGGED error saying how many
    /// entries it missed, and the stream goes on.
    async fn logs(
        &self,
        ctx: &Context<'_>,
        project_id: Option<ID>,
        integration_id: Option<ID>,
        min_level: Option<LogLevel>,
    ) -> Result<impl Stream<Item = async_graphql::Result<LogEntry>> + use<>, ApiError> {
        let app = app(ctx).clone();
        let query = visible_query(
            &app.store,
            caller(ctx)?,
            project_id.as_ref().map(|id| id.as_str()),
            integration_id.as_ref().map(|id| id.as_str()),
            min_level,
        )
        .await?;
        let receiver = app.events.subscribe();
        Ok(BroadcastStream::new(receiver).filter_map(move |event| {
            let item = match event {
                Ok(event) => match &*event {
                    BusEvent::Log(entry) if matches(&query, entry) => {
                        Some(Ok(LogEntry(entry.clone())))
                    }
                    _ => None,
                },
                Err(BroadcastStreamRecvError::Lagged(missed)) => Some(Err(super::lagged(missed))),
            };
            futures_util::future::ready(item)
        }))
    }
}

fn matches(query: &StoreLogQuery, entry: &domain::LogEntry) -> bool {
    query
        .project_ids
        .as_ref()
        .is_none_or(|ids| ids.contains(&entry.project_id))
        && query
            .integration_id
            .as_ref()
            .is_none_or(|id| entry.integration_id.as_ref() == Some(id))
        && query.min_rank.is_none_or(|rank| entry.level.rank() >= rank)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(project: &str, integration: Option<&str>, level: LogLevel) -> domain::LogEntry {
        domain::LogEntry::new(project, integration, level, "m", serde_json::json!({}))
    }

    #[test]
    fn subscription_filters_by_project_integration_and_level() {
        let query = StoreLogQuery {
            project_ids: Some(vec!["prj_a".into()]),
            integration_id: Some("int_1".into()),
            min_rank: Some(LogLevel::Warn.rank()),
        };
        assert!(matches(
            &query,
            &entry("prj_a", Some("int_1"), LogLevel::Error)
        ));
        assert!(matches(
            &query,
            &entry("prj_a", Some("int_1"), LogLevel::Warn)
        ));
        assert!(!matches(
            &query,
            &entry("prj_a", Some("int_1"), LogLevel::Info)
        ));
        assert!(!matches(
            &query,
            &entry("prj_a", Some("int_2"), LogLevel::Error)
        ));
        assert!(!matches(
            &query,
            &entry("prj_b", Some("int_1"), LogLevel::Critical)
        ));
        assert!(matches(
            &StoreLogQuery::default(),
            &entry("prj_b", None, LogLevel::Debug)
        ));
    }
}
