//! The `oauth_states` table: pending OAuth2 authorizations, keyed by the SHA-256 hash of
//! their state. Claiming a state marks it used in the same statement that checks it was
//! not, so a state works once even when two callbacks race.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::oauth_states;
use super::{Journal, Store, StoreResult, journaled, with_read, with_write};

/// A pending authorization (the verifier sealed, never in clear).
#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = oauth_states)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct OAuthStateRow {
    pub state_hash: String,
    pub integration_id: String,
    pub project_id: String,
    pub key_id: String,
    pub sealed_verifier: Vec<u8>,
    /// The caller's page to return to.
    pub redirect_uri: String,
    /// This server's callback, as sent to the provider (the token request repeats it).
    pub callback_url: String,
    /// JSON array of the scopes asked for.
    pub scopes: String,
    pub created_by_id: Option<String>,
    pub created_by_name: String,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_at: Option<NaiveDateTime>,
}

/// Stores a new state with its journal, and prunes states expired before `prune_before`.
pub async fn insert(
    store: &Store,
    row: &OAuthStateRow,
    prune_before: NaiveDateTime,
    journal: &Journal,
) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::delete(oauth_states::table.filter(oauth_states::expires_at.lt(prune_before)))
            .execute(&mut *conn)
            .await?;
        diesel::insert_into(oauth_states::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

/// The state with this hash, used or not.
pub async fn get(store: &Store, state_hash: &str) -> StoreResult<Option<OAuthStateRow>> {
    with_read!(store, |conn| {
        Ok(oauth_states::table
            .find(state_hash)
            .select(OAuthStateRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Marks the state used unless it already was; false when someone used it first.
pub async fn claim(store: &Store, state_hash: &str, at: NaiveDateTime) -> StoreResult<bool> {
    with_write!(store, |conn| {
        let changed = diesel::update(
            oauth_states::table
                .find(state_hash)
                .filter(oauth_states::used_at.is_null()),
        )
        .set(oauth_states::used_at.eq(at))
        .execute(conn)
        .await?;
        Ok(changed == 1)
    })
}

/// Sets when an integration's pending states expire (operators cancelling pending
/// authorizations; tests ageing them). Returns how many rows changed.
pub async fn set_expiry(
    store: &Store,
    integration_id: &str,
    expires_at: NaiveDateTime,
) -> StoreResult<usize> {
    with_write!(store, |conn| {
        Ok(diesel::update(
            oauth_states::table
                .filter(oauth_states::integration_id.eq(integration_id))
                .filter(oauth_states::used_at.is_null()),
        )
        .set(oauth_states::expires_at.eq(expires_at))
        .execute(conn)
        .await?)
    })
}
