//! The `api_tokens` table: only SHA-256 hashes of tokens are stored.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::api_tokens;
use super::{Journal, Store, StoreResult, journaled, with_read, with_write};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = api_tokens)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct TokenRow {
    pub id: String,
    pub name: String,
    pub role: String,
    pub project_id: Option<String>,
    pub token_hash: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

pub async fn insert(store: &Store, row: &TokenRow, journal: &Journal) -> StoreResult<()> {
    journaled!(store, journal, |conn| {
        diesel::insert_into(api_tokens::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
    })
}

/// Inserts the first admin token only if the store holds no token at all; false if one exists.
pub async fn insert_if_none(store: &Store, row: &TokenRow, journal: &Journal) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let existing: i64 = api_tokens::table.count().get_result(&mut *conn).await?;
        if existing > 0 {
            return Ok(false);
        }
        diesel::insert_into(api_tokens::table)
            .values(row)
            .execute(&mut *conn)
            .await?;
        true
    })
}

/// The live (not revoked) token with this hash.
pub async fn find_active_by_hash(store: &Store, hash: &str) -> StoreResult<Option<TokenRow>> {
    with_read!(store, |conn| {
        Ok(api_tokens::table
            .filter(api_tokens::token_hash.eq(hash))
            .filter(api_tokens::revoked_at.is_null())
            .select(TokenRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn get(store: &Store, id: &str) -> StoreResult<Option<TokenRow>> {
    with_read!(store, |conn| {
        Ok(api_tokens::table
            .find(id)
            .select(TokenRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn list(store: &Store) -> StoreResult<Vec<TokenRow>> {
    with_read!(store, |conn| {
        Ok(api_tokens::table
            .order(api_tokens::id.asc())
            .select(TokenRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Marks a token revoked; false when it does not exist or already was.
pub async fn revoke(
    store: &Store,
    id: &str,
    at: NaiveDateTime,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(
            api_tokens::table
                .find(id)
                .filter(api_tokens::revoked_at.is_null()),
        )
        .set(api_tokens::revoked_at.eq(at))
        .execute(&mut *conn)
        .await?;
        if changed == 0 {
            return Ok(false);
        }
        true
    })
}

/// Records use of a token (called at most once a minute per token by the auth cache).
pub async fn touch(store: &Store, id: &str, at: NaiveDateTime) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::update(api_tokens::table.find(id))
            .set(api_tokens::last_used_at.eq(at))
            .execute(conn)
            .await?;
        Ok(())
    })
}
