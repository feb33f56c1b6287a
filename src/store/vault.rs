//! Vault tables: master key check, the key-encryption-key ring, sealed credentials,
//! rotation progress. Only ciphertext and non-secret metadata are stored.

use chrono::NaiveDateTime;
use diesel::{ExpressionMethods, OptionalExtension, QueryDsl, SelectableHelper};
use diesel_async::{AsyncConnection, RunQueryDsl};

use super::schema::{credentials, encryption_keys, integrations, key_rotations, master_keys};
use super::{Journal, Store, StoreError, StoreResult, journaled, with_read, with_write};

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = master_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct MasterKeyRow {
    pub id: String,
    /// `passphrase` or `file`.
    pub source: String,
    pub salt: Option<Vec<u8>>,
    pub iterations: i32,
    pub check_value: Vec<u8>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = encryption_keys)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct EncryptionKeyRow {
    pub id: String,
    pub master_id: String,
    pub wrapped_key: Vec<u8>,
    /// `ACTIVE` (new data keys are wrapped by it), `DRAINING` (being rotated away) or `RETIRED`.
    pub state: String,
    pub created_at: NaiveDateTime,
    pub retired_at: Option<NaiveDateTime>,
}

#[derive(
    Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable, diesel::AsChangeset,
)]
#[diesel(table_name = credentials)]
#[diesel(treat_none_as_null = true)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct CredentialRow {
    pub integration_id: String,
    pub kind: String,
    pub key_id: String,
    pub wrapped_dek: Vec<u8>,
    pub sealed: Vec<u8>,
    /// JSON array of the names of the fields that hold a value.
    pub set_fields: String,
    pub expires_at: Option<NaiveDateTime>,
    pub refresh_error: Option<String>,
    pub refresh_failed_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
#[diesel(table_name = key_rotations)]
#[diesel(check_for_backend(diesel::pg::Pg, diesel::sqlite::Sqlite))]
pub struct KeyRotationRow {
    pub id: String,
    pub target_key_id: String,
    /// `RUNNING` or `DONE`.
    pub state: String,
    pub done: i32,
    pub total: i32,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
}

pub async fn latest_master(store: &Store) -> StoreResult<Option<MasterKeyRow>> {
    with_read!(store, |conn| {
        Ok(master_keys::table
            .order(master_keys::id.desc())
            .select(MasterKeyRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// First start: the master key's check value and the first key-encryption key.
pub async fn insert_master(
    store: &Store,
    master: &MasterKeyRow,
    key: &EncryptionKeyRow,
) -> StoreResult<()> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::insert_into(master_keys::table)
                .values(master)
                .execute(&mut *conn)
                .await?;
            diesel::insert_into(encryption_keys::table)
                .values(key)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
        .await
    })
}

pub async fn keys(store: &Store) -> StoreResult<Vec<EncryptionKeyRow>> {
    with_read!(store, |conn| {
        Ok(encryption_keys::table
            .order(encryption_keys::id.asc())
            .select(EncryptionKeyRow::as_select())
            .load(conn)
            .await?)
    })
}

/// Adds a new active key; the previous active keys start draining.
pub async fn insert_active_key(store: &Store, key: &EncryptionKeyRow) -> StoreResult<()> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::update(encryption_keys::table.filter(encryption_keys::state.eq("ACTIVE")))
                .set(encryption_keys::state.eq("DRAINING"))
                .execute(&mut *conn)
                .await?;
            diesel::insert_into(encryption_keys::table)
                .values(key)
                .execute(&mut *conn)
                .await?;
            Ok(())
        })
        .await
    })
}

/// Retires draining keys that no credential references any more.
pub async fn retire_unused_keys(store: &Store, at: NaiveDateTime) -> StoreResult<usize> {
    with_write!(store, |conn| {
        let mut used: Vec<String> = credentials::table
            .select(credentials::key_id)
            .distinct()
            .load(&mut *conn)
            .await?;
        // Webhook and incoming-webhook secrets are sealed under ring keys too.
        use super::schema::{incoming_webhook_secrets, webhooks};
        used.extend(
            webhooks::table
                .select(webhooks::key_id)
                .distinct()
                .load::<String>(&mut *conn)
                .await?,
        );
        used.extend(
            webhooks::table
                .select(webhooks::previous_key_id)
                .distinct()
                .load::<Option<String>>(&mut *conn)
                .await?
                .into_iter()
                .flatten(),
        );
        used.extend(
            incoming_webhook_secrets::table
                .select(incoming_webhook_secrets::key_id)
                .distinct()
                .load::<String>(&mut *conn)
                .await?,
        );
        Ok(diesel::update(
            encryption_keys::table
                .filter(encryption_keys::state.eq("DRAINING"))
                .filter(encryption_keys::id.ne_all(used)),
        )
        .set((
            encryption_keys::state.eq("RETIRED"),
            encryption_keys::retired_at.eq(at),
        ))
        .execute(&mut *conn)
        .await?)
    })
}

pub async fn get_credentials(
    store: &Store,
    integration_id: &str,
) -> StoreResult<Option<CredentialRow>> {
    with_read!(store, |conn| {
        Ok(credentials::table
            .find(integration_id)
            .select(CredentialRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

/// Stores (or clears, with `None`) an integration's credentials and its new auth kind,
/// if the integration is still at `expected_version`; false otherwise.
pub async fn replace_credentials(
    store: &Store,
    integration_id: &str,
    row: Option<&CredentialRow>,
    auth_kind: &str,
    expected_version: i32,
    at: NaiveDateTime,
    journal: &Journal,
) -> StoreResult<bool> {
    journaled!(store, journal, |conn| {
        let changed = diesel::update(
            integrations::table
                .find(integration_id)
                .filter(integrations::version.eq(expected_version)),
        )
        .set((
            integrations::auth_kind.eq(auth_kind),
            integrations::version.eq(expected_version + 1),
            integrations::updated_at.eq(at),
        ))
        .execute(&mut *conn)
        .await?;
        if changed == 0 {
            return Ok(false);
        }
        diesel::delete(credentials::table.find(integration_id))
            .execute(&mut *conn)
            .await?;
        if let Some(row) = row {
            diesel::insert_into(credentials::table)
                .values(row)
                .execute(&mut *conn)
                .await?;
        }
        true
    })
}

/// Replaces the sealed payload of credentials still sealed as `previous_sealed`
/// (refreshed OAuth2 tokens); false when someone else changed them first.
pub async fn update_sealed(
    store: &Store,
    row: &CredentialRow,
    previous_sealed: &[u8],
) -> StoreResult<bool> {
    with_write!(store, |conn| {
        let changed = diesel::update(
            credentials::table
                .find(&row.integration_id)
                .filter(credentials::sealed.eq(previous_sealed)),
        )
        .set(row)
        .execute(conn)
        .await?;
        Ok(changed == 1)
    })
}

/// Records a failed OAuth2 refresh (the message carries no secret).
pub async fn record_refresh_failure(
    store: &Store,
    integration_id: &str,
    message: &str,
    at: NaiveDateTime,
) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::update(credentials::table.find(integration_id))
            .set((
                credentials::refresh_error.eq(message),
                credentials::refresh_failed_at.eq(at),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// A batch of credentials whose data key is not yet wrapped by `key_id`.
pub async fn credentials_not_on(
    store: &Store,
    key_id: &str,
    limit: i64,
) -> StoreResult<Vec<CredentialRow>> {
    with_read!(store, |conn| {
        Ok(credentials::table
            .filter(credentials::key_id.ne(key_id))
            .order(credentials::integration_id.asc())
            .limit(limit)
            .select(CredentialRow::as_select())
            .load(conn)
            .await?)
    })
}

pub async fn count_credentials_not_on(store: &Store, key_id: &str) -> StoreResult<i64> {
    with_read!(store, |conn| {
        Ok(credentials::table
            .filter(credentials::key_id.ne(key_id))
            .count()
            .get_result(conn)
            .await?)
    })
}

/// Re-wraps data keys: each row moves only if it is still on the key it was read with.
/// Returns how many moved; bumps the rotation's progress in the same transaction.
pub async fn rewrap_batch(
    store: &Store,
    rotation_id: &str,
    moves: &[(String, String, String, Vec<u8>)],
) -> StoreResult<usize> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            let mut moved = 0;
            for (integration_id, old_key, new_key, wrapped) in moves {
                moved += diesel::update(
                    credentials::table
                        .find(integration_id)
                        .filter(credentials::key_id.eq(old_key)),
                )
                .set((
                    credentials::key_id.eq(new_key),
                    credentials::wrapped_dek.eq(wrapped),
                ))
                .execute(&mut *conn)
                .await?;
            }
            diesel::update(key_rotations::table.find(rotation_id))
                .set(
                    key_rotations::done
                        .eq(key_rotations::done + i32::try_from(moved).unwrap_or(i32::MAX)),
                )
                .execute(&mut *conn)
                .await?;
            Ok(moved)
        })
        .await
    })
}

pub async fn insert_rotation(store: &Store, row: &KeyRotationRow) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::insert_into(key_rotations::table)
            .values(row)
            .execute(conn)
            .await?;
        Ok(())
    })
}

pub async fn running_rotation(store: &Store) -> StoreResult<Option<KeyRotationRow>> {
    with_read!(store, |conn| {
        Ok(key_rotations::table
            .filter(key_rotations::state.eq("RUNNING"))
            .order(key_rotations::id.desc())
            .select(KeyRotationRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn get_rotation(store: &Store, id: &str) -> StoreResult<Option<KeyRotationRow>> {
    with_read!(store, |conn| {
        Ok(key_rotations::table
            .find(id)
            .select(KeyRotationRow::as_select())
            .first(conn)
            .await
            .optional()?)
    })
}

pub async fn finish_rotation(store: &Store, id: &str, at: NaiveDateTime) -> StoreResult<()> {
    with_write!(store, |conn| {
        diesel::update(key_rotations::table.find(id))
            .set((
                key_rotations::state.eq("DONE"),
                key_rotations::finished_at.eq(at),
            ))
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// Master key rotation: the new master's check value and every live key of the ring
/// re-wrapped under it, in one transaction.
pub async fn replace_master(
    store: &Store,
    master: &MasterKeyRow,
    rewrapped: &[(String, Vec<u8>)],
) -> StoreResult<()> {
    with_write!(store, |conn| {
        conn.transaction::<_, StoreError, _>(async |conn| {
            diesel::insert_into(master_keys::table)
                .values(master)
                .execute(&mut *conn)
                .await?;
            for (key_id, wrapped) in rewrapped {
                diesel::update(encryption_keys::table.find(key_id))
                    .set((
                        encryption_keys::wrapped_key.eq(wrapped),
                        encryption_keys::master_id.eq(&master.id),
                    ))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        })
        .await
    })
}

/// Credentials of several integrations in one query (the data loader's batch).
pub async fn get_many_credentials(
    store: &Store,
    integration_ids: &[String],
) -> StoreResult<Vec<CredentialRow>> {
    with_read!(store, |conn| {
        Ok(crate::store::LoadRows::load_rows(
            conn,
            credentials::table
                .filter(credentials::integration_id.eq_any(integration_ids))
                .select(CredentialRow::as_select()),
        )
        .await?)
    })
}
