//! Credentials and the key ring in the API: `setCredentials`, `Integration.credentials`,
//! `rotateEncryptionKey`, `keyRotation`.

use async_graphql::{Context, Enum, ID, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::compiled::{PlainField, PlainObject};
use super::errors::ApiResult;
use super::integrations::{Integration, IntegrationPayload};
use super::{app, caller};
use crate::domain::AuthKind;
use crate::domain::credentials::{self as domain, SetCredentialsInput};

/// Which credentials an integration has: kinds and field names, never values.
#[derive(SimpleObject)]
pub struct CredentialsInfo {
    pub kind: AuthKind,
    /// Names of the fields that hold a value.
    pub set_fields: Vec<String>,
    pub updated_at: DateTime<Utc>,
    /// When the OAuth2 access token expires.
    pub expires_at: Option<DateTime<Utc>>,
    /// The key-encryption key protecting these credentials.
    pub key_id: ID,
    /// Why the last OAuth2 refresh failed (no secret in it).
    pub refresh_error: Option<String>,
    pub refresh_failed_at: Option<DateTime<Utc>>,
}

impl From<domain::CredentialsInfo> for CredentialsInfo {
    fn from(info: domain::CredentialsInfo) -> Self {
        CredentialsInfo {
            kind: info.kind,
            set_fields: info.set_fields,
            updated_at: info.updated_at,
            expires_at: info.expires_at,
            key_id: ID(info.key_id),
            refresh_error: info.refresh_error,
            refresh_failed_at: info.refresh_failed_at,
        }
    }
}

impl PlainObject for CredentialsInfo {
    const PLAIN_FIELDS: &'static [(&'static str, PlainField<Self>)] = &[
        ("kind", |c, out| out.enum_item(c.kind)),
        ("setFields", |c, out| out.strs(&c.set_fields)),
        ("updatedAt", |c, out| out.scalar(&c.updated_at)),
        ("expiresAt", |c, out| out.opt_scalar(c.expires_at.as_ref())),
        ("keyId", |c, out| out.str(&c.key_id)),
        ("refreshError", |c, out| {
            out.opt_str(c.refresh_error.as_deref())
        }),
        ("refreshFailedAt", |c, out| {
            out.opt_scalar(c.refresh_failed_at.as_ref());
        }),
    ];
}

/// State of a key rotation.
#[derive(Enum, Clone, Copy, PartialEq, Eq)]
pub enum KeyRotationState {
    Running,
    Done,
}

/// Progress of re-wrapping every data key under a new key-encryption key.
pub struct KeyRotation(domain::KeyRotation);

#[Object]
impl KeyRotation {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }
    /// The new key-encryption key.
    async fn target_key_id(&self) -> ID {
        ID(self.0.target_key_id.clone())
    }
    async fn state(&self) -> KeyRotationState {
        if self.0.state == "DONE" {
            KeyRotationState::Done
        } else {
            KeyRotationState::Running
        }
    }
    /// Data keys re-wrapped so far.
    async fn done(&self) -> i32 {
        self.0.done
    }
    /// Data keys to re-wrap.
    async fn total(&self) -> i32 {
        self.0.total
    }
    async fn started_at(&self) -> DateTime<Utc> {
        self.0.started_at.and_utc()
    }
    async fn finished_at(&self) -> Option<DateTime<Utc>> {
        self.0.finished_at.map(|t| t.and_utc())
    }
}

/// Loads credentials info by integration id in one query per batch (list pages).

#[derive(Default)]
pub struct CredentialQuery;

#[Object]
impl CredentialQuery {
    /// Progress of a key rotation (ADMIN).
    async fn key_rotation(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<KeyRotation>> {
        let row = domain::key_rotation(&app(ctx).store, caller(ctx)?, &id).await?;
        Ok(row.map(KeyRotation))
    }
}

#[derive(Default)]
pub struct CredentialMutation;

#[Object]
impl CredentialMutation {
    /// Sets an integration's credentials (EDITOR). Values are sealed and never returned.
    async fn set_credentials(
        &self,
        ctx: &Context<'_>,
        input: SetCredentialsInput,
    ) -> ApiResult<IntegrationPayload> {
        let integration = domain::set(app(ctx), caller(ctx)?, input).await?;
        Ok(IntegrationPayload {
            integration: Integration(integration),
        })
    }

    /// Re-wraps every data key under a new key-encryption key, online, in the background
    /// (ADMIN, not project-scoped). Returns the rotation; follow it with `keyRotation`.
    /// A rotation already running is resumed instead of starting another.
    async fn rotate_encryption_key(&self, ctx: &Context<'_>) -> ApiResult<KeyRotation> {
        let started = domain::rotate_encryption_key(app(ctx), caller(ctx)?).await?;
        Ok(KeyRotation(started))
    }
}
