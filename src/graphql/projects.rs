//! Projects in the API.

use async_graphql::{Context, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};
use futures_util::FutureExt;

use super::compiled::{PlainField, PlainObject};
use super::connection::{ConnectionNode, IdConnection, PageArgs, connection};
use super::errors::ApiResult;
use super::integrations::Integration;
use super::{app, caller};
use crate::domain::integrations::{self as integration_domain, IntegrationFilter};
use crate::domain::projects::{self as domain, CreateProjectInput};
use crate::ids::IdKind;

/// A project: integrations, webhooks and access are grouped by project.
pub struct Project(pub domain::Project);

impl ConnectionNode for Project {
    const IMMEDIATE_FIELDS: &'static [&'static str] = &[
        "id",
        "name",
        "slug",
        "description",
        "createdAt",
        "updatedAt",
    ];
}

impl PlainObject for Project {
    const PLAIN_FIELDS: &'static [(&'static str, PlainField<Self>)] = &[
        ("id", |p, out| out.str(&p.0.id)),
        ("name", |p, out| out.str(&p.0.name)),
        ("slug", |p, out| out.str(&p.0.slug)),
        ("description", |p, out| {
            out.opt_str(p.0.description.as_deref())
        }),
        ("createdAt", |p, out| out.scalar(&p.0.created_at)),
        ("updatedAt", |p, out| out.scalar(&p.0.updated_at)),
    ];
}

#[Object]
impl Project {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// URL-safe unique name.
    async fn slug(&self) -> &str {
        &self.0.slug
    }
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }

    /// The project's numbers over a window (default: the last day).
    async fn stats(
        &self,
        ctx: &Context<'_>,
        window: Option<crate::domain::executions::TimeWindow>,
    ) -> super::errors::ApiResult<crate::domain::stats::Stats> {
        Ok(crate::domain::stats::get(
            &super::app(ctx).store,
            super::caller(ctx)?,
            Some(&self.0.id),
            window.unwrap_or_default(),
        )
        .boxed()
        .await?)
    }
    /// The project's webhook endpoints, oldest first.
    #[graphql(complexity = "first.unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1")]
    async fn webhooks(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<IdConnection<super::webhooks::Webhook>> {
        super::webhooks::webhook_connection(ctx, Some(&self.0.id), first, after).await
    }

    /// The project's integrations.
    #[graphql(
        complexity = "first.or(last).unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1"
    )]
    async fn integrations(
        &self,
        ctx: &Context<'_>,
        filter: Option<IntegrationFilter>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<IdConnection<Integration>> {
        let request = PageArgs {
            first,
            after,
            last,
            before,
        }
        .request(ctx, IdKind::Integration)?;
        let page = integration_domain::list(
            &app(ctx).store,
            caller(ctx)?,
            Some(&self.0.id),
            filter.unwrap_or_default(),
            &request,
        )
        .await?;
        Ok(connection(page, &request, |i| i.id.clone(), Integration))
    }
}

/// Loads projects by ID in one query per batch (no N+1 in integration lists).

#[derive(Default)]
pub struct ProjectQuery;

#[Object]
impl ProjectQuery {
    /// Projects the caller can see (a project-scoped token sees its own).
    #[graphql(
        complexity = "first.or(last).unwrap_or(50).clamp(0, 500) as usize * child_complexity + 1"
    )]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> ApiResult<IdConnection<Project>> {
        let request = PageArgs {
            first,
            after,
            last,
            before,
        }
        .request(ctx, IdKind::Project)?;
        let page = domain::list(&app(ctx).store, caller(ctx)?, &request).await?;
        Ok(connection(page, &request, |p| p.id.clone(), Project))
    }

    /// One project; NOT_FOUND when unknown or not visible to the caller.
    async fn project(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Project>> {
        let project = domain::get(&app(ctx).store, caller(ctx)?, &id).await?;
        Ok(Some(Project(project)))
    }
}

/// Result of `createProject`.
#[derive(SimpleObject)]
pub struct ProjectPayload {
    pub project: Project,
}

#[derive(Default)]
pub struct ProjectMutation;

#[Object]
impl ProjectMutation {
    /// Creates a project (EDITOR or ADMIN, not project-scoped).
    async fn create_project(
        &self,
        ctx: &Context<'_>,
        input: CreateProjectInput,
    ) -> ApiResult<ProjectPayload> {
        let project = domain::create(app(ctx), caller(ctx)?, input).await?;
        Ok(ProjectPayload {
            project: Project(project),
        })
    }
}
