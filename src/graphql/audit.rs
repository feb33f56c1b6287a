//! `auditLog`: the audit records, for ADMIN tokens.

use async_graphql::{Context, ID, Json, Object};
use chrono::{DateTime, Utc};

use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::ApiResult;
use super::{app, caller};
use crate::domain::audit::{self as domain, AuditFilter};
use crate::ids::IdKind;

/// Who changed what, when.
pub struct AuditEntry(pub domain::AuditEntry);

impl ConnectionNode for AuditEntry {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "actor",
        "actorId",
        "action",
        "targetType",
        "targetId",
        "projectId",
        "requestId",
        "at",
        "details",
    ];
}

#[Object]
impl AuditEntry {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The actor's name (a token's name, `system`, or `local operator` for the CLI).
    async fn actor(&self) -> &str {
        &self.0.actor
    }
    /// The token that acted, when one did.
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.clone().map(ID)
    }
    async fn action(&self) -> &str {
        &self.0.action
    }
    async fn target_type(&self) -> &str {
        &self.0.target_type
    }
    async fn target_id(&self) -> Option<ID> {
        self.0.target_id.clone().map(ID)
    }
    async fn project_id(&self) -> Option<ID> {
        self.0.project_id.clone().map(ID)
    }
    /// The request that made the change (`x-request-id`).
    async fn request_id(&self) -> Option<&str> {
        self.0.request_id.as_deref()
    }
    async fn at(&self) -> DateTime<Utc> {
        self.0.at
    }
    /// Non-secret facts about the change.
    async fn details(&self) -> Json<&serde_json::Value> {
        Json(&self.0.details)
    }
}

#[derive(Default)]
pub struct AuditQuery;

#[Object]
impl AuditQuery {
    /// Audit records, oldest first (`last` for the newest), for ADMIN tokens.
    #[graphql(
        complexity = "first.or(last).unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1"
    )]
    async fn audit_log(
        &self,
        ctx: &Context<'_>,
        filter: Option<AuditFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<IdConnection<AuditEntry>> {
        let args = PageArgs {
            first,
            after,
            last,
            before,
        };
        let request = args.request(ctx, IdKind::Audit)?;
        let page = domain::list(
            &app(ctx).store,
            caller(ctx)?,
            filter.unwrap_or_default(),
            &request,
        )
        .await?;
        Ok(connection(page, &request, |e| e.id.clone(), AuditEntry))
    }
}
