//! Log entries: what happened to an integration, stored and streamed live.

use chrono::{DateTime, Utc};

use super::access::Caller;
use super::integrations::Integration;
use super::stored_enum;
use crate::error::{AppError, AppResult};
use crate::ids::{IdKind, new_id};
use crate::store::logs::{self as log_store, LogQuery, LogRow};
use crate::store::{Page, PageRequest, Store, StoreResult, decode_json, now};

stored_enum! {
    /// Severity of a log entry, in increasing order.
    LogLevel { Debug, Info, Warn, Error, Critical }
}

impl LogLevel {
    /// A number that orders levels (DEBUG = 0 … CRITICAL = 4); stored for `minLevel` filters.
    pub fn rank(self) -> i32 {
        match self {
            LogLevel::Debug => 0,
            LogLevel::Info => 1,
            LogLevel::Warn => 2,
            LogLevel::Error => 3,
            LogLevel::Critical => 4,
        }
    }
}

/// One log entry.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct LogEntry {
    pub id: String,
    pub project_id: String,
    pub integration_id: Option<String>,
    pub level: LogLevel,
    pub message: String,
    pub metadata: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl LogEntry {
    /// A new entry, timestamped now.
    pub fn new(
        project_id: &str,
        integration_id: Option<&str>,
        level: LogLevel,
        message: impl Into<String>,
        metadata: serde_json::Value,
    ) -> Self {
        LogEntry {
            id: new_id(IdKind::Log),
            project_id: project_id.to_owned(),
            integration_id: integration_id.map(str::to_owned),
            level,
            message: message.into(),
            metadata,
            at: now().and_utc(),
        }
    }

    pub(crate) fn to_row(&self) -> LogRow {
        LogRow {
            id: self.id.clone(),
            project_id: self.project_id.clone(),
            integration_id: self.integration_id.clone(),
            level: self.level.as_str().to_owned(),
            level_rank: self.level.rank(),
            message: self.message.clone(),
            metadata: self.metadata.to_string(),
            created_at: self.at.naive_utc(),
        }
    }

    pub(crate) fn from_row(row: LogRow) -> StoreResult<Self> {
        Ok(LogEntry {
            level: LogLevel::from_stored("logs.level", &row.level)?,
            metadata: decode_json("logs.metadata", &row.metadata)?,
            id: row.id,
            project_id: row.project_id,
            integration_id: row.integration_id,
            message: row.message,
            at: row.created_at.and_utc(),
        })
    }
}

/// Which log entries to list (or stream: without the time range).
#[derive(Debug, Default, async_graphql::InputObject)]
pub struct LogFilter {
    pub project_id: Option<async_graphql::ID>,
    pub integration_id: Option<async_graphql::ID>,
    /// Entries at this level or above.
    pub min_level: Option<LogLevel>,
    /// Entries at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub until: Option<DateTime<Utc>>,
    /// Text in the message or the metadata (any case), 1-200 characters.
    pub search: Option<String>,
}

/// Which log entries a caller asked for, within what it may see: the listing's query and
/// the live subscription's filter in one.
#[derive(Debug, Clone)]
pub struct LogSelection(LogQuery);

impl LogSelection {
    /// What the caller asked for; NOT_FOUND for a project or integration it cannot see.
    pub async fn visible(store: &Store, caller: &Caller, filter: LogFilter) -> AppResult<Self> {
        let project_ids = super::visible_projects(
            store,
            caller,
            filter.project_id.as_ref().map(|id| id.as_str()),
            filter.integration_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        if let (Some(since), Some(until)) = (filter.since, filter.until)
            && since > until
        {
            return Err(AppError::invalid(
                "filter.until",
                "must not be before since",
            ));
        }
        let search = filter
            .search
            .map(|text| text.trim().to_owned())
            .filter(|text| !text.is_empty());
        if search
            .as_ref()
            .is_some_and(|text| text.chars().count() > 200)
        {
            return Err(AppError::invalid("filter.search", "at most 200 characters"));
        }
        Ok(LogSelection(LogQuery {
            project_ids,
            integration_id: filter.integration_id.map(|id| id.to_string()),
            min_rank: filter.min_level.map(LogLevel::rank),
            since: filter.since.map(|t| t.naive_utc()),
            until: filter.until.map(|t| t.naive_utc()),
            search,
        }))
    }

    /// The entries of an integration the caller holds.
    pub fn of_integration(
        caller: &Caller,
        integration: &Integration,
        min_level: Option<LogLevel>,
    ) -> AppResult<Self> {
        if !caller.principal.sees_project(&integration.project_id) {
            return Err(AppError::not_found("integration", &integration.id));
        }
        Ok(LogSelection(LogQuery {
            project_ids: Some(vec![integration.project_id.clone()]),
            integration_id: Some(integration.id.clone()),
            min_rank: min_level.map(LogLevel::rank),
            ..LogQuery::default()
        }))
    }

    /// One page of stored entries, oldest first.
    pub async fn page(&self, store: &Store, request: &PageRequest) -> AppResult<Page<LogEntry>> {
        Ok(log_store::page(store, &self.0, request)
            .await?
            .try_map(LogEntry::from_row)?)
    }

    /// A freshly written entry, if it belongs to the selection.
    pub fn live(&self, row: &LogRow) -> Option<LogEntry> {
        if !self.0.matches(row) {
            return None;
        }
        LogEntry::from_row(row.clone()).ok()
    }
}
