//! Projects: the unit of ownership and access scope.

use chrono::{DateTime, Utc};

use super::access::{Caller, Role};
use super::logs::{LogEntry, LogLevel};
use super::{utc, validate};
use crate::app::App;
use crate::error::{AppError, AppResult};
use crate::events::BusEvent;
use crate::ids::{IdKind, new_id};
use crate::store::projects::{self as project_store, ProjectRow};
use crate::store::{Journal, Page, PageRequest, Store, StoreError, now};

/// A project.
#[derive(Debug, Clone)]
pub struct Project {
    pub id: String,
    pub name: String,
    pub slug: String,
    pub description: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<ProjectRow> for Project {
    fn from(row: ProjectRow) -> Self {
        Project {
            id: row.id,
            name: row.name,
            slug: row.slug,
            description: row.description,
            created_at: utc(row.created_at),
            updated_at: utc(row.updated_at),
        }
    }
}

/// Input of `createProject`.
#[derive(Debug, async_graphql::InputObject)]
pub struct CreateProjectInput {
    /// Display name, 1-100 characters.
    pub name: String,
    /// URL-safe unique identifier; derived from the name when omitted.
    pub slug: Option<String>,
    pub description: Option<String>,
}

/// Creates a project (EDITOR, not project-scoped).
pub async fn create(app: &App, caller: &Caller, input: CreateProjectInput) -> AppResult<Project> {
    caller.principal.require(Role::Editor)?;
    caller.principal.require_unscoped()?;
    let name = validate::name("input.name", &input.name, 100)?;
    let slug = match input.slug {
        Some(slug) => validate::slug("input.slug", slug.trim())?,
        None => {
            let derived = validate::slugify(&name);
            if derived.is_empty() {
                return Err(AppError::invalid(
                    "input.slug",
                    "cannot derive a slug from this name; give one",
                ));
            }
            derived
        }
    };
    let description =
        validate::optional_text("input.description", input.description.as_deref(), 2000)?;
    let at = now();
    let row = ProjectRow {
        id: new_id(IdKind::Project),
        name,
        slug,
        description,
        created_at: at,
        updated_at: at,
    };
    let log = LogEntry::new(
        &row.id,
        None,
        LogLevel::Info,
        "project created",
        serde_json::json!({ "name": row.name, "slug": row.slug, "by": caller.principal.name }),
    );
    let journal = Journal {
        logs: vec![log.to_row()],
        audit: caller.audit(
            "project.create",
            ("project", Some(&row.id)),
            Some(&row.id),
            serde_json::json!({ "slug": row.slug }),
        ),
        events: Vec::new(),
    };
    match project_store::insert(&app.store, &row, &journal).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(AppError::Conflict(format!(
                "a project with slug `{}` already exists",
                row.slug
            )));
        }
        Err(other) => return Err(other.into()),
    }
    app.events.publish(BusEvent::Log(Box::new(log.to_row())));
    Ok(row.into())
}

/// A project the caller may see; NOT_FOUND otherwise (unknown and foreign look the same).
pub async fn get(store: &Store, caller: &Caller, id: &str) -> AppResult<Project> {
    if IdKind::of(id) == Some(IdKind::Project)
        && caller.principal.sees_project(id)
        && let Some(row) = project_store::get(store, id).await?
    {
        return Ok(row.into());
    }
    Err(AppError::not_found("project", id))
}

/// The projects the caller may see.
pub async fn list(store: &Store, caller: &Caller, page: &PageRequest) -> AppResult<Page<Project>> {
    let only = caller.principal.project_id.as_deref();
    Ok(project_store::page(store, only, page)
        .await?
        .map(Project::from))
}

/// Projects by ID for a data loader: the related project of a record the caller was
/// already allowed to see (no scope check of its own).
pub async fn get_many_unchecked(store: &Store, ids: &[String]) -> AppResult<Vec<Project>> {
    Ok(project_store::get_many(store, ids)
        .await?
        .into_iter()
        .map(Project::from)
        .collect())
}
