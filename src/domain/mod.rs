//! The rules of patchbay: what a valid project or integration is, who may do what,
//! and which log entries and audit records each change leaves behind.

pub mod access;
pub mod call_options;
pub mod credentials;
pub mod executions;
pub mod incoming;
pub mod integrations;
pub mod logs;
pub mod projects;
pub mod tokens;
pub mod validate;
pub mod webhooks;

use chrono::{DateTime, NaiveDateTime, Utc};

/// Converts a stored UTC timestamp to the API's `DateTime`.
pub(crate) fn utc(at: NaiveDateTime) -> DateTime<Utc> {
    at.and_utc()
}

/// Declares a closed set stored as its SCREAMING_CASE name and exposed as a GraphQL enum.
macro_rules! stored_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, async_graphql::Enum,
            strum::EnumString, strum::IntoStaticStr, serde::Serialize, serde::Deserialize,
        )]
        #[strum(serialize_all = "SCREAMING_SNAKE_CASE")]
        #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
        pub enum $name { $($(#[$vmeta])* $variant),+ }

        impl $name {
            /// The stored (and GraphQL) name.
            pub fn as_str(self) -> &'static str {
                self.into()
            }

            /// Decodes a stored value.
            pub fn from_stored(column: &'static str, value: &str) -> Result<Self, $crate::store::StoreError> {
                value.parse().map_err(|_| $crate::store::StoreError::Corrupt {
                    column,
                    message: format!("unknown value `{value}`"),
                })
            }
        }
    };
}
pub(crate) use stored_enum;

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
