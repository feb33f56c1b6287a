//! Log entries: what happened to an integration, stored and streamed live.

use chrono::{DateTime, Utc};

use super::stored_enum;
use crate::ids::{IdKind, new_id};
use crate::store::logs::LogRow;
use crate::store::{StoreResult, decode_json, now};

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
