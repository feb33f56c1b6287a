//! The audit log as ADMINs read it: who changed what, when, from which request (never a
//! secret). Every mutation that changes state writes its row in its own transaction.

use async_graphql::InputObject;
use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use super::{Page, PageRequest, utc};
use crate::error::{AppError, AppResult};
use crate::store::Store;
use crate::store::audit::{self as audit_store, AuditQuery, AuditRow};

/// Filters of `auditLog`; all given parts must hold.
#[derive(Debug, Default, InputObject)]
pub struct AuditFilter {
    pub project_id: Option<async_graphql::ID>,
    /// A token ID (`tok_…`) or an actor's name.
    pub actor: Option<String>,
    /// An action such as `integration.update`, or a prefix pattern like `integration.*`.
    pub action: Option<String>,
    pub target_id: Option<async_graphql::ID>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
}

/// One audit record.
#[derive(Debug, Clone)]
pub struct AuditEntry {
    pub id: String,
    pub actor_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub target_type: String,
    pub target_id: Option<String>,
    pub project_id: Option<String>,
    pub request_id: Option<String>,
    pub details: serde_json::Value,
    pub at: DateTime<Utc>,
}

impl AuditEntry {
    fn from_row(row: AuditRow) -> Self {
        AuditEntry {
            details: serde_json::from_str(&row.details).unwrap_or(serde_json::Value::Null),
            id: row.id,
            actor_id: row.actor_id,
            actor: row.actor_name,
            action: row.action,
            target_type: row.target_type,
            target_id: row.target_id,
            project_id: row.project_id,
            request_id: row.request_id,
            at: utc(row.at),
        }
    }
}

/// Audit records the caller may read (ADMIN; a project-scoped ADMIN sees its project's).
pub async fn list(
    store: &Store,
    caller: &Caller,
    filter: AuditFilter,
    request: &PageRequest,
) -> AppResult<Page<AuditEntry>> {
    caller.principal.require(Role::Admin)?;
    if let Some(id) = &filter.project_id {
        super::projects::get(store, caller, id).await?;
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since > until
    {
        return Err(AppError::invalid(
            "filter.until",
            "must not be before since",
        ));
    }
    let query = AuditQuery {
        project_ids: match &filter.project_id {
            Some(id) => Some(vec![id.to_string()]),
            None => caller.principal.project_restriction(),
        },
        actor: filter.actor.filter(|a| !a.is_empty()),
        action: filter.action.filter(|a| !a.is_empty()),
        target_id: filter.target_id.map(|id| id.to_string()),
        since: filter.since.map(|t| t.naive_utc()),
        until: filter.until.map(|t| t.naive_utc()),
    };
    Ok(audit_store::page(store, &query, request)
        .await?
        .map(AuditEntry::from_row))
}
