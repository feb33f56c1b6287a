//! The rules of patchbay: what a valid project or integration is, who may do what,
//! and which log entries and audit records each change leaves behind.

pub mod access;
pub mod alerts;
pub mod audit;
pub mod call_options;
pub mod compare;
pub mod credentials;
pub mod executions;
pub mod health;
pub mod incoming;
pub mod integrations;
pub mod logs;
pub mod oauth;
pub mod projects;
pub mod readiness;
pub mod signatures;
pub mod stats;
pub mod sync;
pub mod templates;
pub mod tokens;
pub mod validate;
pub mod webhooks;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Listings page by keyset: what a caller asks for and what it gets.
pub use crate::store::{Page, PageRequest};

/// The projects a listing or live stream covers: the project asked for, else every
/// project the caller sees (`None`: all). NOT_FOUND when the caller cannot see the
/// project or the integration asked for (unknown and foreign look the same).
pub(crate) async fn visible_projects(
    store: &crate::store::Store,
    caller: &access::Caller,
    project_id: Option<&str>,
    integration_id: Option<&str>,
) -> crate::error::AppResult<Option<Vec<String>>> {
    if let Some(id) = project_id {
        projects::get(store, caller, id).await?;
    }
    if let Some(id) = integration_id {
        integrations::get(store, caller, id).await?;
    }
    Ok(match project_id {
        Some(id) => Some(vec![id.to_owned()]),
        None => caller.principal.project_restriction(),
    })
}

/// Converts a stored UTC timestamp to the API's `DateTime`.
pub(crate) fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

pub(crate) use crate::store::stored_enum;

stored_enum! {
    /// What kind of tool an integration connects.
    Category {
        Cad, Simulation, Eda, ProjectManagement, Communication, VersionControl, CloudStorage,
        CiCd, Testing, Monitoring, SocialMedia, Analytics, AiService, Crm, Email, Database,
        Messaging, FileTransfer, Custom,
    }
}

stored_enum! {
    /// The wire protocol the integration speaks.
    Protocol { Rest, Graphql, Websocket, Grpc, Soap, Custom }
}

stored_enum! {
    /// The lifecycle status an operator gives an integration.
    IntegrationStatus { Active, Inactive, Maintenance, Deprecated }
}

stored_enum! {
    /// How patchbay authenticates to the integration's service.
    AuthKind {
        /// No credentials.
        None,
        /// An API key in a header or query parameter.
        ApiKey,
        /// A bearer token.
        Bearer,
        /// HTTP Basic.
        Basic,
        /// OAuth 2.0 with refresh.
        #[graphql(name = "OAUTH2")]
        #[strum(serialize = "OAUTH2")]
        #[serde(rename = "OAUTH2")]
        Oauth2,
        /// A set of custom headers.
        Custom,
    }
}
