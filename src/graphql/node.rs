//! `node(id:)`: any object by its global ID (the type is in the ID's prefix).

use async_graphql::{Context, ID, Interface, Object};

use super::errors::ApiResult;
use super::executions::Execution;
use super::integrations::Integration;
use super::projects::Project;
use super::viewer::ApiToken;
use super::{app, caller};
use crate::domain::{integrations, projects, tokens};
use crate::error::AppError;
use crate::ids::IdKind;

/// An object with a global ID.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID"))]
pub enum Node {
    Project(Project),
    Integration(Integration),
    ApiToken(ApiToken),
    Execution(Execution),
    Webhook(super::webhooks::Webhook),
    Delivery(super::webhooks::Delivery),
    Alert(super::alerts::Alert),
    AlertRule(super::alerts::AlertRule),
    Template(super::templates::Template),
    Sync(super::syncs::SyncObject),
    SyncRun(super::syncs::SyncRun),
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Fetches any object by ID; NOT_FOUND when unknown or not visible to the caller.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Node>> {
        let store = &app(ctx).store;
        let caller = caller(ctx)?;
        let node = match IdKind::of(&id) {
            Some(IdKind::Project) => {
                Node::Project(Project(projects::get(store, caller, &id).await?))
            }
            Some(IdKind::Integration) => {
                Node::Integration(Integration(integrations::get(store, caller, &id).await?))
            }
            Some(IdKind::Token) => {
                let token = tokens::list(store, caller)
                    .await?
                    .into_iter()
                    .find(|t| t.id == id.as_str())
                    .ok_or_else(|| AppError::not_found("node", id.as_str()))?;
                Node::ApiToken(ApiToken(token))
            }
            Some(IdKind::Execution) => Node::Execution(super::executions::get(ctx, &id).await?),
            Some(IdKind::Webhook) => Node::Webhook(super::webhooks::get(ctx, &id).await?),
            Some(IdKind::Delivery) => {
                Node::Delivery(super::webhooks::get_delivery(ctx, &id).await?)
            }
            Some(IdKind::Alert) => Node::Alert(super::alerts::get(ctx, &id).await?),
            Some(IdKind::AlertRule) => Node::AlertRule(super::alerts::get_rule(ctx, &id).await?),
            Some(IdKind::Template) => Node::Template(super::templates::get(ctx, &id).await?),
            Some(IdKind::Sync) => Node::Sync(super::syncs::SyncObject(
                crate::domain::sync::get(store, caller, &id).await?,
            )),
            Some(IdKind::SyncRun) => Node::SyncRun(super::syncs::SyncRun(
                crate::domain::sync::get_run(store, caller, &id).await?,
            )),
            _ => return Err(AppError::not_found("node", id.as_str()).into()),
        };
        Ok(Some(node))
    }
}
