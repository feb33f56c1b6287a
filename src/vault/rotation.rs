//! Key rotation: every data key re-wrapped under a new key-encryption key, online, in
//! batches. Progress lives in `key_rotations`, and each credential moves in its own
//! conditional update, so a crash at any point resumes where it stopped: resuming just
//! re-wraps whatever is not yet on the target key. Old keys keep opening until no
//! credential references them; then they are retired. Webhook signing secrets and
//! incoming-webhook secrets (sealed directly under a key of the ring) are re-sealed too.

use crate::ids::{IdKind, new_id};
use crate::store::vault::{self as vault_store, KeyRotationRow};
use crate::store::{Store, now};

use super::{Vault, VaultError};

/// Data keys re-wrapped per transaction.
pub const BATCH: i64 = 200;

/// Starts a rotation to a new key, or returns the one already running (to resume it).
pub async fn start(store: &Store, vault: &Vault) -> Result<KeyRotationRow, VaultError> {
    if let Some(running) = vault_store::running_rotation(store).await? {
        vault.reload(store).await?;
        return Ok(running);
    }
    let key = vault.new_kek();
    vault_store::insert_active_key(store, &key).await?;
    vault.reload(store).await?;
    let total = vault_store::count_credentials_not_on(store, &key.id).await?;
    let row = KeyRotationRow {
        id: new_id(IdKind::KeyRotation),
        target_key_id: key.id,
        state: "RUNNING".to_owned(),
        done: 0,
        total: i32::try_from(total).unwrap_or(i32::MAX),
        started_at: now(),
        finished_at: None,
    };
    vault_store::insert_rotation(store, &row).await?;
    Ok(row)
}

/// Runs (or resumes) a rotation to the end; `progress` hears (done, total) after each batch.
pub async fn run(
    store: &Store,
    vault: &Vault,
    rotation_id: &str,
    progress: impl FnMut(i64, i64),
) -> Result<KeyRotationRow, VaultError> {
    run_in_batches(store, vault, rotation_id, BATCH, progress).await
}

/// [`run`] with a chosen batch size.
pub async fn run_in_batches(
    store: &Store,
    vault: &Vault,
    rotation_id: &str,
    batch_size: i64,
    mut progress: impl FnMut(i64, i64),
) -> Result<KeyRotationRow, VaultError> {
    let rotation = vault_store::get_rotation(store, rotation_id)
        .await?
        .ok_or_else(|| VaultError::Corrupt(format!("rotation {rotation_id} not found")))?;
    let target = rotation.target_key_id.clone();
    let mut done = i64::from(rotation.done);
    let total = i64::from(rotation.total);
    loop {
        let batch = vault_store::credentials_not_on(store, &target, batch_size.max(1)).await?;
        if batch.is_empty() {
            break;
        }
        let mut moves = Vec::with_capacity(batch.len());
        for row in &batch {
            let wrapped = vault.rewrap(row, &target)?;
            moves.push((
                row.integration_id.clone(),
                row.key_id.clone(),
                target.clone(),
                wrapped,
            ));
        }
        let moved = vault_store::rewrap_batch(store, rotation_id, &moves).await?;
        done += i64::try_from(moved).unwrap_or(0);
        progress(done.min(total), total);
    }
    reseal_secrets(store, vault, &target).await?;
    let at = now();
    vault_store::retire_unused_keys(store, at).await?;
    vault_store::finish_rotation(store, rotation_id, at).await?;
    vault.reload(store).await?;
    vault_store::get_rotation(store, rotation_id)
        .await?
        .ok_or_else(|| VaultError::Corrupt(format!("rotation {rotation_id} vanished")))
}

/// Re-seals webhook and incoming-webhook secrets under `target` (the active key).
async fn reseal_secrets(store: &Store, vault: &Vault, target: &str) -> Result<(), VaultError> {
    use crate::store::webhooks as webhook_store;
    let (hooks, incoming) = webhook_store::secrets_not_on(store, target).await?;
    for before in hooks {
        let mut after = before.clone();
        if before.key_id != target {
            let secret = vault.open_secret(&before.id, &before.key_id, &before.secret)?;
            (after.key_id, after.secret) = vault.seal_secret(&before.id, &secret)?;
        }
        if let (Some(key_id), Some(sealed)) = (&before.previous_key_id, &before.previous_secret)
            && key_id != target
        {
            let secret = vault.open_secret(&before.id, key_id, sealed)?;
            let (key_id, sealed) = vault.seal_secret(&before.id, &secret)?;
            after.previous_key_id = Some(key_id);
            after.previous_secret = Some(sealed);
        }
        webhook_store::reseal_webhook(store, &before, &after).await?;
    }
    for before in incoming {
        let secret = vault.open_secret(&before.integration_id, &before.key_id, &before.secret)?;
        let (key_id, sealed) = vault.seal_secret(&before.integration_id, &secret)?;
        webhook_store::reseal_incoming(store, &before, &key_id, &sealed).await?;
    }
    Ok(())
}
