//! Who the caller is (`viewer`) and API token management.

use async_graphql::{Context, ID, InputObject, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::errors::ApiResult;
use super::projects::Project;
use super::{app, caller};
use crate::domain::access::Role;
use crate::domain::{projects, tokens};

/// The caller's identity.
pub struct Viewer;

#[Object]
impl Viewer {
    /// The token's ID (null for the local operator).
    async fn token_id(&self, ctx: &Context<'_>) -> ApiResult<Option<ID>> {
        Ok(caller(ctx)?.principal.token_id.clone().map(ID))
    }
    async fn name(&self, ctx: &Context<'_>) -> ApiResult<String> {
        Ok(caller(ctx)?.principal.name.clone())
    }
    async fn role(&self, ctx: &Context<'_>) -> ApiResult<Role> {
        Ok(caller(ctx)?.principal.role)
    }
    /// The project the token is limited to, if any.
    async fn project(&self, ctx: &Context<'_>) -> ApiResult<Option<Project>> {
        let caller = caller(ctx)?;
        match &caller.principal.project_id {
            Some(id) => Ok(Some(Project(
                projects::get(&app(ctx).store, caller, id).await?,
            ))),
            None => Ok(None),
        }
    }
}

/// An API token (the secret itself is shown only once, by `createApiToken`).
pub struct ApiToken(pub tokens::ApiToken);

#[Object]
impl ApiToken {
    pub async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn role(&self) -> Role {
        self.0.role
    }
    async fn project_id(&self) -> Option<ID> {
        self.0.project_id.clone().map(ID)
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn last_used_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_used_at
    }
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.0.revoked_at
    }
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// The authenticated caller.
    async fn viewer(&self) -> Viewer {
        Viewer
    }

    /// API tokens (ADMIN; a project-scoped admin sees its project's).
    async fn api_tokens(&self, ctx: &Context<'_>) -> ApiResult<Vec<ApiToken>> {
        let list = tokens::list(&app(ctx).store, caller(ctx)?).await?;
        Ok(list.into_iter().map(ApiToken).collect())
    }
}

/// Input of `createApiToken`.
#[derive(InputObject)]
pub struct CreateApiTokenInput {
    pub name: String,
    pub role: Role,
    /// Limit the token to one project.
    pub project_id: Option<ID>,
}

/// Result of `createApiToken`: the secret appears here once and never again.
#[derive(SimpleObject)]
pub struct CreateApiTokenPayload {
    pub token: ApiToken,
    /// Send as `Authorization: Bearer <secret>`.
    pub secret: String,
}

/// Result of `revokeApiToken`.
#[derive(SimpleObject)]
pub struct RevokeApiTokenPayload {
    pub token: ApiToken,
}

#[derive(Default)]
pub struct TokenMutation;

#[Object]
impl TokenMutation {
    /// Creates an API token (ADMIN).
    async fn create_api_token(
        &self,
        ctx: &Context<'_>,
        input: CreateApiTokenInput,
    ) -> ApiResult<CreateApiTokenPayload> {
        let app = app(ctx);
        let issued = tokens::create(
            &app.store,
            caller(ctx)?,
            &input.name,
            input.role,
            input.project_id.as_ref().map(|id| id.as_str()),
        )
        .await?;
        Ok(CreateApiTokenPayload {
            token: ApiToken(issued.token),
            secret: issued.secret,
        })
    }

    /// Revokes an API token at once (ADMIN).
    async fn revoke_api_token(
        &self,
        ctx: &Context<'_>,
        id: ID,
    ) -> ApiResult<RevokeApiTokenPayload> {
        let app = app(ctx);
        let token = tokens::revoke(&app.store, caller(ctx)?, &id).await?;
        app.auth.forget_all();
        Ok(RevokeApiTokenPayload {
            token: ApiToken(token),
        })
    }
}
