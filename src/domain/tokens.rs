//! API tokens: `pbk_` + 64 hex digits, shown once, stored as SHA-256 hashes.
//!
//! Authentication caches lookups for a few seconds (positive and negative) so a hot
//! dashboard does not cost a store query per request; revocation in this process
//! clears the cache at once, and reaches other replicas within [`AUTH_CACHE_TTL`].

use std::time::Duration;

use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::access::{Caller, Principal, Role};
use super::utc;
use crate::error::{AppError, AppResult};
use crate::ids::{IdKind, new_id};
use crate::store::tokens::{self as token_store, TokenRow};
use crate::store::{Journal, Store, now, projects};

const TOKEN_PREFIX: &str = "pbk_";
const TOKEN_HEX_LEN: usize = 64;
/// How long a token lookup is trusted before the store is asked again.
pub const AUTH_CACHE_TTL: Duration = Duration::from_secs(5);
/// `last_used_at` is refreshed at most this often per token (a write per request would not scale).
const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// A token as listed (never the secret).
#[derive(Debug, Clone)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: Role,
    pub project_id: Option<String>,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    fn from_row(row: TokenRow) -> AppResult<Self> {
        Ok(ApiToken {
            role: Role::from_stored("api_tokens.role", &row.role)?,
            id: row.id,
            name: row.name,
            project_id: row.project_id,
            created_at: utc(row.created_at),
            last_used_at: row.last_used_at.map(utc),
            revoked_at: row.revoked_at.map(utc),
        })
    }
}

/// A freshly created token: the only moment its secret exists outside the caller.
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("token", &self.token)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// SHA-256 of the token text, hex-encoded: what the store keeps.
pub fn hash_token(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn generate_secret() -> String {
    let mut bytes = [0u8; TOKEN_HEX_LEN / 2];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

fn looks_like_token(secret: &str) -> bool {
    secret
        .strip_prefix(TOKEN_PREFIX)
        .is_some_and(|hex| hex.len() == TOKEN_HEX_LEN && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn new_row(name: &str, role: Role, project_id: Option<&str>) -> (TokenRow, String) {
    let secret = generate_secret();
    let row = TokenRow {
        id: new_id(IdKind::Token),
        name: name.to_owned(),
        role: role.as_str().to_owned(),
        project_id: project_id.map(str::to_owned),
        token_hash: hash_token(&secret),
        created_at: now(),
        last_used_at: None,
        revoked_at: None,
    };
    (row, secret)
}

/// Checks tokens against the store, with a short-lived cache.
pub struct Authenticator {
    store: Store,
    cache: moka::sync::Cache<String, Option<Principal>>,
    touched: moka::sync::Cache<String, ()>,
}

impl Authenticator {
    pub fn new(store: Store) -> Self {
        Authenticator {
            store,
            cache: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(AUTH_CACHE_TTL)
                .build(),
            touched: moka::sync::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(TOUCH_INTERVAL)
                .build(),
        }
    }

    /// The principal of a bearer token, or UNAUTHENTICATED.
    pub async fn authenticate(&self, secret: &str) -> AppResult<Principal> {
        let rejected = || AppError::Unauthenticated("invalid or revoked API token".to_owned());
        if !looks_like_token(secret) {
            return Err(rejected());
        }
        let hash = hash_token(secret);
        let principal = match self.cache.get(&hash) {
            Some(cached) => cached,
            None => {
                let principal = match token_store::find_active_by_hash(&self.store, &hash).await? {
                    Some(row) => Some(Principal {
                        role: Role::from_stored("api_tokens.role", &row.role)?,
                        token_id: Some(row.id),
                        name: row.name,
                        project_id: row.project_id,
                    }),
                    None => None,
                };
                self.cache.insert(hash, principal.clone());
                principal
            }
        };
        let principal = principal.ok_or_else(rejected)?;
        if let Some(id) = &principal.token_id
            && !self.touched.contains_key(id)
        {
            self.touched.insert(id.clone(), ());
            if let Err(err) = token_store::touch(&self.store, id, now()).await {
                tracing::warn!(error = %err, "could not record token use");
            }
        }
        Ok(principal)
    }

    /// Forgets every cached lookup (after a revocation).
    pub fn forget_all(&self) {
        self.cache.invalidate_all();
    }
}

/// Creates a token. ADMIN only; a project-scoped admin may only mint tokens for its project.
pub async fn create(
    store: &Store,
    caller: &Caller,
    name: &str,
    role: Role,
    project_id: Option<&str>,
) -> AppResult<IssuedToken> {
    caller.principal.require(Role::Admin)?;
    let name = super::validate::name("input.name", name, 100)?;
    if let Some(own) = &caller.principal.project_id
        && project_id != Some(own.as_str())
    {
        return Err(AppError::Forbidden(
            "a project-scoped token can only create tokens for its own project".to_owned(),
        ));
    }
    if let Some(project_id) = project_id
        && projects::get(store, project_id).await?.is_none()
    {
        return Err(AppError::not_found("project", project_id));
    }
    let (row, secret) = new_row(&name, role, project_id);
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "token.create",
            ("token", Some(&row.id)),
            project_id,
            serde_json::json!({ "name": name, "role": role.as_str() }),
        ),
        events: Vec::new(),
    };
    token_store::insert(store, &row, &journal).await?;
    Ok(IssuedToken {
        token: ApiToken::from_row(row)?,
        secret,
    })
}

/// Creates the first ADMIN token when the store has none (first start); `None` otherwise.
pub async fn bootstrap_admin(store: &Store) -> AppResult<Option<IssuedToken>> {
    let (row, secret) = new_row("bootstrap admin", Role::Admin, None);
    let caller = Caller::local_operator();
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "token.bootstrap",
            ("token", Some(&row.id)),
            None,
            serde_json::json!({ "role": "ADMIN" }),
        ),
        events: Vec::new(),
    };
    if token_store::insert_if_none(store, &row, &journal).await? {
        Ok(Some(IssuedToken {
            token: ApiToken::from_row(row)?,
            secret,
        }))
    } else {
        Ok(None)
    }
}

/// Every token (revoked ones included), oldest first; scoped admins see their project's.
pub async fn list(store: &Store, caller: &Caller) -> AppResult<Vec<ApiToken>> {
    caller.principal.require(Role::Admin)?;
    token_store::list(store)
        .await?
        .into_iter()
        .filter(|row| {
            caller.principal.project_id.is_none() || row.project_id == caller.principal.project_id
        })
        .map(ApiToken::from_row)
        .collect()
}

/// Revokes a token; NOT_FOUND when unknown, invisible, or already revoked.
pub async fn revoke(store: &Store, caller: &Caller, id: &str) -> AppResult<ApiToken> {
    caller.principal.require(Role::Admin)?;
    let row = token_store::get(store, id)
        .await?
        .filter(|row| {
            caller.principal.project_id.is_none() || row.project_id == caller.principal.project_id
        })
        .ok_or_else(|| AppError::not_found("token", id))?;
    let at = now();
    let journal = Journal {
        logs: Vec::new(),
        audit: caller.audit(
            "token.revoke",
            ("token", Some(id)),
            row.project_id.as_deref(),
            serde_json::json!({}),
        ),
        events: Vec::new(),
    };
    if !token_store::revoke(store, id, at, &journal).await? {
        return Err(AppError::not_found("token", id));
    }
    let mut token = ApiToken::from_row(row)?;
    token.revoked_at = Some(utc(at));
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_have_the_documented_shape_and_hash_stably() {
        let (row, secret) = new_row("t", Role::Viewer, None);
        assert!(looks_like_token(&secret));
        assert_eq!(row.token_hash, hash_token(&secret));
        assert_ne!(row.token_hash, secret);
        assert!(!looks_like_token("pbk_short"));
        assert!(!looks_like_token(&secret.replace("pbk_", "xyz_")));
    }
}
