//! Credential shapes per auth kind. Secret material lives only in these types, which
//! wipe their strings when dropped and never print them (`Debug` is redacted).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use zeroize::Zeroize;

use crate::domain::AuthKind;

/// Where an API key goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, async_graphql::Enum)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ApiKeyLocation {
    /// A request header.
    Header,
    /// A query-string parameter.
    Query,
}

/// The secret part of an integration's credentials, as sealed in the vault.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CredentialSecret {
    ApiKey {
        value: String,
        location: ApiKeyLocation,
        name: String,
    },
    Bearer {
        token: String,
    },
    Basic {
        username: String,
        password: String,
    },
    Oauth2 {
        client_id: String,
        client_secret: Option<String>,
        token_url: String,
        scopes: Vec<String>,
        access_token: Option<String>,
        refresh_token: Option<String>,
        /// Unix seconds.
        expires_at: Option<i64>,
        /// Where users authorize (`startOAuth`) when no template says; not secret.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        authorize_url: Option<String>,
    },
    Custom {
        headers: BTreeMap<String, String>,
    },
}

impl std::fmt::Debug for CredentialSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CredentialSecret::{}(<redacted>)", self.kind().as_str())
    }
}

impl Drop for CredentialSecret {
    fn drop(&mut self) {
        match self {
            CredentialSecret::ApiKey { value, name, .. } => {
                value.zeroize();
                name.zeroize();
            }
            CredentialSecret::Bearer { token } => token.zeroize(),
            CredentialSecret::Basic { username, password } => {
                username.zeroize();
                password.zeroize();
            }
            CredentialSecret::Oauth2 {
                client_id,
                client_secret,
                token_url,
                access_token,
                refresh_token,
                authorize_url,
                ..
            } => {
                client_id.zeroize();
                if let Some(url) = authorize_url {
                    url.zeroize();
                }
                token_url.zeroize();
                for secret in [client_secret, access_token, refresh_token]
                    .into_iter()
                    .flatten()
                {
                    secret.zeroize();
                }
            }
            CredentialSecret::Custom { headers } => {
                for (_, mut value) in std::mem::take(headers) {
                    value.zeroize();
                }
            }
        }
    }
}

impl CredentialSecret {
    pub fn kind(&self) -> AuthKind {
        match self {
            CredentialSecret::ApiKey { .. } => AuthKind::ApiKey,
            CredentialSecret::Bearer { .. } => AuthKind::Bearer,
            CredentialSecret::Basic { .. } => AuthKind::Basic,
            CredentialSecret::Oauth2 { .. } => AuthKind::Oauth2,
            CredentialSecret::Custom { .. } => AuthKind::Custom,
        }
    }

    /// Names of the fields that hold a value (shown in the API instead of values).
    pub fn set_fields(&self) -> Vec<String> {
        let fields: Vec<&str> = match self {
            CredentialSecret::ApiKey { .. } => vec!["value", "in", "name"],
            CredentialSecret::Bearer { .. } => vec!["token"],
            CredentialSecret::Basic { .. } => vec!["username", "password"],
            CredentialSecret::Oauth2 {
                client_secret,
                access_token,
                refresh_token,
                expires_at,
                scopes,
                authorize_url,
                ..
            } => {
                let mut fields = vec!["clientId", "tokenUrl"];
                for (name, set) in [
                    ("authorizeUrl", authorize_url.is_some()),
                    ("clientSecret", client_secret.is_some()),
                    ("scopes", !scopes.is_empty()),
                    ("accessToken", access_token.is_some()),
                    ("refreshToken", refresh_token.is_some()),
                    ("expiresAt", expires_at.is_some()),
                ] {
                    if set {
                        fields.push(name);
                    }
                }
                fields
            }
            CredentialSecret::Custom { headers } => {
                return headers
                    .keys()
                    .map(|name| format!("headers.{name}"))
                    .collect();
            }
        };
        fields.into_iter().map(str::to_owned).collect()
    }

    /// When the OAuth2 access token expires, if known.
    pub fn expires_at(&self) -> Option<i64> {
        match self {
            CredentialSecret::Oauth2 { expires_at, .. } => *expires_at,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_secrets() {
        let secret = CredentialSecret::Basic {
            username: "alice".into(),
            password: "hunter2-marker".into(),
        };
        let shown = format!("{secret:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("alice"));
        assert_eq!(secret.set_fields(), ["username", "password"]);
    }

    #[test]
    fn secrets_serialise_with_their_kind() {
        let secret = CredentialSecret::Bearer { token: "t".into() };
        let json = serde_json::to_value(&secret).unwrap();
        assert_eq!(json["kind"], "BEARER");
        let back: CredentialSecret = serde_json::from_value(json).unwrap();
        assert_eq!(back, secret);
    }
}
