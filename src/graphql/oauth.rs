//! OAuth2 connect in the API: `startOAuth` (the browser then visits the provider and
//! comes back through `GET /oauth/callback`, in `crate::http`).

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::errors::ApiResult;
use super::integrations::Integration;
use super::{app, caller};
use crate::domain::oauth::{self as domain, StartOAuthInput};

/// A started OAuth2 authorization.
#[derive(SimpleObject)]
pub struct StartOAuthPayload {
    /// The provider's authorization page, with client id, callback, scopes, state and
    /// PKCE challenge (S256): send the user's browser there.
    pub authorize_url: String,
    /// The state parameter in `authorizeUrl` (single use).
    pub state: String,
    /// When the authorization stops being accepted (10 minutes after the start).
    pub expires_at: DateTime<Utc>,
    /// The integration being connected.
    pub integration: Integration,
}

#[derive(Default)]
pub struct OAuthMutation;

#[Object]
impl OAuthMutation {
    /// Starts connecting an integration to its provider with OAuth2 (authorization code
    /// with PKCE; EDITOR). The integration needs OAuth2 credentials with a client id
    /// (and secret); the provider redirects to `/oauth/callback`, which stores the tokens
    /// and sends the browser back to `redirectUri`.
    #[graphql(name = "startOAuth")]
    async fn start_oauth(
        &self,
        ctx: &Context<'_>,
        input: StartOAuthInput,
    ) -> ApiResult<StartOAuthPayload> {
        let started = domain::start(app(ctx), caller(ctx)?, input).await?;
        Ok(StartOAuthPayload {
            authorize_url: started.authorize_url,
            state: started.state,
            expires_at: started.expires_at,
            integration: Integration(started.integration),
        })
    }
}
