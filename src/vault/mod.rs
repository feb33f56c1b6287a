//! The credentials vault: envelope encryption with a key ring.
//!
//! Three levels. The master key comes from `PATCHBAY_MASTER_KEY` (a passphrase, through
//! PBKDF2-HMAC-SHA256 with a stored random salt) or a 32-byte key file; a stored check
//! value detects a wrong one at start-up, before anything is written. The master key
//! wraps the key-encryption keys (KEKs) of the ring, stored in `encryption_keys`. Each
//! integration's credentials get their own random data key (DEK), wrapped by the active
//! KEK with associated data binding it to (integration id, key id, format version); the
//! credential JSON is sealed by the DEK, bound to (integration id, format version).
//! Rotation wraps every DEK under a new KEK online, batch by batch; old KEKs keep opening
//! until nothing references them. The vault only seals and opens: it never calls out.
//! Decrypted secrets leave it only as the auth material the outbound room builds from
//! what it opens here.

pub mod credentials;
pub mod crypto;
pub mod rotation;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::ids::{IdKind, new_id};
use crate::store::vault::{self as vault_store, CredentialRow, EncryptionKeyRow, MasterKeyRow};
use crate::store::{Store, StoreError, now};
use credentials::CredentialSecret;
use crypto::{CryptoError, Key32, PBKDF2_ROUNDS, random_bytes};

const MASTER_CHECK_PLAINTEXT: &[u8] = b"patchbay master key check";
const DEFAULT_KEY_FILE: &str = "master.key";

/// Errors of the vault. None of them carries secret material.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(
        "the master key does not match this store (its check value does not open); \
         start with the master key the store was created with"
    )]
    WrongMasterKey,
    #[error("{0}")]
    MasterKey(String),
    #[error("credentials of {integration_id} do not open: {source}")]
    Crypto {
        integration_id: String,
        #[source]
        source: CryptoError,
    },
    #[error("key {0} of the key ring is unknown or cannot be opened")]
    UnknownKey(String),
    #[error("stored credentials are not valid: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Where the master key comes from.
#[derive(Debug, Clone)]
pub struct MasterKeySettings {
    pub passphrase: Option<SecretString>,
    pub key_file: Option<PathBuf>,
    pub data_dir: PathBuf,
}

/// Sealed credentials, ready to store.
pub struct Sealed {
    pub key_id: String,
    pub wrapped_dek: Vec<u8>,
    pub sealed: Vec<u8>,
}

/// The open key ring of a running server.
pub struct Vault {
    master_id: String,
    master: Key32,
    ring: RwLock<HashMap<String, Key32>>,
    active: RwLock<String>,
    /// The master key file this start created (to be backed up), if any.
    pub created_key_file: Option<PathBuf>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("master_id", &self.master_id)
            .finish_non_exhaustive()
    }
}

fn master_check_aad(master_id: &str) -> Vec<u8> {
    format!("patchbay/master-check/v1|{master_id}").into_bytes()
}

fn kek_aad(key_id: &str) -> Vec<u8> {
    format!("patchbay/kek/v1|{key_id}").into_bytes()
}

fn dek_aad(integration_id: &str, key_id: &str) -> Vec<u8> {
    format!("patchbay/dek/v1|{integration_id}|{key_id}").into_bytes()
}

fn secret_aad(owner_id: &str, key_id: &str) -> Vec<u8> {
    format!("patchbay/secret/v1|{owner_id}|{key_id}").into_bytes()
}

fn credentials_aad(integration_id: &str) -> Vec<u8> {
    format!("patchbay/credentials/v1|{integration_id}").into_bytes()
}

/// Reads a 32-byte key file.
fn read_key_file(path: &Path) -> Result<Key32, VaultError> {
    let bytes = Zeroizing::new(std::fs::read(path).map_err(|e| {
        VaultError::MasterKey(format!(
            "cannot read the master key file {}: {e}",
            path.display()
        ))
    })?);
    Key32::from_slice(&bytes).ok_or_else(|| {
        VaultError::MasterKey(format!(
            "the master key file {} must hold exactly 32 raw bytes (it has {})",
            path.display(),
            bytes.len()
        ))
    })
}

/// Writes a new random key file, readable by its owner only.
pub fn create_key_file(path: &Path) -> Result<Key32, VaultError> {
    use std::io::Write;
    let key = Key32::random();
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| VaultError::MasterKey(format!("cannot create {}: {e}", dir.display())))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path).map_err(|e| {
        VaultError::MasterKey(format!(
            "cannot create the master key file {}: {e}",
            path.display()
        ))
    })?;
    file.write_all(key.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| {
            VaultError::MasterKey(format!(
                "cannot write the master key file {}: {e}",
                path.display()
            ))
        })?;
    Ok(key)
}

impl Vault {
    /// Opens the vault at start-up: resolves the master key, checks it against the store,
    /// and unwraps the key ring. On a store without a vault, sets one up.
    pub async fn unlock(store: &Store, settings: &MasterKeySettings) -> Result<Vault, VaultError> {
        let stored = vault_store::latest_master(store).await?;
        let mut created_key_file = None;
        let default_file = settings.data_dir.join(DEFAULT_KEY_FILE);
        let (master_row, master) = match stored {
            Some(row) => {
                let master = match &settings.passphrase {
                    Some(passphrase) => {
                        let salt = row.salt.clone().ok_or(VaultError::WrongMasterKey)?;
                        let rounds = u32::try_from(row.iterations).unwrap_or(PBKDF2_ROUNDS);
                        derive(passphrase, &salt, rounds).await?
                    }
                    None => {
                        let path = settings.key_file.clone().unwrap_or(default_file);
                        if !path.exists() {
                            return Err(VaultError::MasterKey(format!(
                                "this store's credentials are encrypted, but there is no master key: \
                                 set PATCHBAY_MASTER_KEY or --master-key-file ({} does not exist)",
                                path.display()
                            )));
                        }
                        read_key_file(&path)?
                    }
                };
                master
                    .open(&row.check_value, &master_check_aad(&row.id))
                    .map_err(|_| VaultError::WrongMasterKey)?;
                (row, master)
            }
            None => {
                let (source, salt, master) = match &settings.passphrase {
                    Some(passphrase) => {
                        let salt = random_bytes(16);
                        let master = derive(passphrase, &salt, PBKDF2_ROUNDS).await?;
                        ("passphrase", Some(salt), master)
                    }
                    None => match &settings.key_file {
                        Some(path) if path.exists() => ("file", None, read_key_file(path)?),
                        explicit => {
                            let path = explicit.clone().unwrap_or(default_file);
                            let key = if path.exists() {
                                read_key_file(&path)?
                            } else {
                                create_key_file(&path)?
                            };
                            tracing::warn!(
                                path = %path.display(),
                                "created a new random master key file; BACK IT UP: without it, stored credentials cannot be decrypted"
                            );
                            created_key_file = Some(path.clone());
                            ("file", None, key)
                        }
                    },
                };
                let id = new_id(IdKind::MasterKey);
                let row = MasterKeyRow {
                    check_value: master.seal(MASTER_CHECK_PLAINTEXT, &master_check_aad(&id)),
                    id,
                    source: source.to_owned(),
                    salt,
                    iterations: i32::try_from(PBKDF2_ROUNDS).unwrap_or(i32::MAX),
                    created_at: now(),
                };
                let kek = new_kek_row(&master, &row.id);
                vault_store::insert_master(store, &row, &kek.0).await?;
                (row, master)
            }
        };
        let vault = Vault {
            master_id: master_row.id,
            master,
            ring: RwLock::new(HashMap::new()),
            active: RwLock::new(String::new()),
            created_key_file,
        };
        vault.reload(store).await?;
        Ok(vault)
    }

    /// An in-memory vault with a random master key and one active key, for benchmarks
    /// and unit tests (nothing is stored).
    pub fn for_testing() -> Vault {
        let master = Key32::random();
        let (row, key) = new_kek_row(&master, "mk_testing");
        Vault {
            master_id: "mk_testing".to_owned(),
            master,
            ring: RwLock::new(HashMap::from([(row.id.clone(), key)])),
            active: RwLock::new(row.id),
            created_key_file: None,
        }
    }

    /// Reads the key ring from the store (after a rotation started elsewhere).
    pub async fn reload(&self, store: &Store) -> Result<(), VaultError> {
        let rows = vault_store::keys(store).await?;
        let mut ring = HashMap::new();
        let mut active = None;
        for row in rows {
            if row.state == "RETIRED" {
                continue;
            }
            let bytes = self
                .master
                .open(&row.wrapped_key, &kek_aad(&row.id))
                .map_err(|_| VaultError::UnknownKey(row.id.clone()))?;
            let key =
                Key32::from_slice(&bytes).ok_or_else(|| VaultError::UnknownKey(row.id.clone()))?;
            if row.state == "ACTIVE" {
                active = Some(row.id.clone());
            }
            ring.insert(row.id, key);
        }
        let active =
            active.ok_or_else(|| VaultError::Corrupt("the key ring has no active key".into()))?;
        *self.ring.write().unwrap_or_else(|p| p.into_inner()) = ring;
        *self.active.write().unwrap_or_else(|p| p.into_inner()) = active;
        Ok(())
    }

    /// The id of the key that wraps new data keys.
    pub fn active_key_id(&self) -> String {
        self.active
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    fn kek(&self, key_id: &str) -> Result<Key32, VaultError> {
        self.ring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(key_id)
            .cloned()
            .ok_or_else(|| VaultError::UnknownKey(key_id.to_owned()))
    }

    /// Seals credentials for an integration under a fresh data key.
    pub fn seal(
        &self,
        integration_id: &str,
        secret: &CredentialSecret,
    ) -> Result<Sealed, VaultError> {
        let key_id = self.active_key_id();
        let kek = self.kek(&key_id)?;
        let dek = Key32::random();
        let plaintext = Zeroizing::new(
            serde_json::to_vec(secret)
                .map_err(|e| VaultError::Corrupt(format!("cannot encode credentials: {e}")))?,
        );
        Ok(Sealed {
            wrapped_dek: kek.seal(dek.as_bytes(), &dek_aad(integration_id, &key_id)),
            sealed: dek.seal(&plaintext, &credentials_aad(integration_id)),
            key_id,
        })
    }

    /// Opens stored credentials.
    pub fn open(&self, row: &CredentialRow) -> Result<CredentialSecret, VaultError> {
        let failed = |source| VaultError::Crypto {
            integration_id: row.integration_id.clone(),
            source,
        };
        let kek = self.kek(&row.key_id)?;
        let dek_bytes = kek
            .open(&row.wrapped_dek, &dek_aad(&row.integration_id, &row.key_id))
            .map_err(failed)?;
        let dek = Key32::from_slice(&dek_bytes).ok_or(failed(CryptoError::Malformed))?;
        let plaintext = dek
            .open(&row.sealed, &credentials_aad(&row.integration_id))
            .map_err(failed)?;
        serde_json::from_slice(&plaintext).map_err(|_| {
            VaultError::Corrupt(format!(
                "credentials of {} do not decode",
                row.integration_id
            ))
        })
    }

    /// Seals a small secret owned by `owner_id` (a webhook signing secret, an incoming
    /// webhook's verification secret) directly under the active key-encryption key,
    /// bound to its owner and key. Returns the key id and the envelope.
    pub fn seal_secret(
        &self,
        owner_id: &str,
        secret: &[u8],
    ) -> Result<(String, Vec<u8>), VaultError> {
        let key_id = self.active_key_id();
        let kek = self.kek(&key_id)?;
        Ok((
            key_id.clone(),
            kek.seal(secret, &secret_aad(owner_id, &key_id)),
        ))
    }

    /// Opens a secret sealed by [`Self::seal_secret`].
    pub fn open_secret(
        &self,
        owner_id: &str,
        key_id: &str,
        envelope: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        self.kek(key_id)?
            .open(envelope, &secret_aad(owner_id, key_id))
            .map_err(|source| VaultError::Crypto {
                integration_id: owner_id.to_owned(),
                source,
            })
    }

    /// Re-wraps a data key from its current key to `target` (rotation).
    pub(crate) fn rewrap(&self, row: &CredentialRow, target: &str) -> Result<Vec<u8>, VaultError> {
        let old = self.kek(&row.key_id)?;
        let new = self.kek(target)?;
        let dek = old
            .open(&row.wrapped_dek, &dek_aad(&row.integration_id, &row.key_id))
            .map_err(|source| VaultError::Crypto {
                integration_id: row.integration_id.clone(),
                source,
            })?;
        Ok(new.seal(&dek, &dek_aad(&row.integration_id, target)))
    }

    /// Replaces the master key: every live key of the ring is re-wrapped under `new_master`
    /// in one transaction. Returns the vault opened with the new master; servers still
    /// running with the old master must be restarted with the new one.
    pub async fn rotate_master(
        &self,
        store: &Store,
        new_master: Key32,
        source: &str,
    ) -> Result<Vault, VaultError> {
        let id = new_id(IdKind::MasterKey);
        let row = MasterKeyRow {
            check_value: new_master.seal(MASTER_CHECK_PLAINTEXT, &master_check_aad(&id)),
            id,
            source: source.to_owned(),
            salt: None,
            iterations: 0,
            created_at: now(),
        };
        let rewrapped: Vec<(String, Vec<u8>)> = self
            .ring
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .map(|(key_id, key)| {
                (
                    key_id.clone(),
                    new_master.seal(key.as_bytes(), &kek_aad(key_id)),
                )
            })
            .collect();
        vault_store::replace_master(store, &row, &rewrapped).await?;
        let vault = Vault {
            master_id: row.id,
            master: new_master,
            ring: RwLock::new(HashMap::new()),
            active: RwLock::new(String::new()),
            created_key_file: None,
        };
        vault.reload(store).await?;
        Ok(vault)
    }

    /// Reads a key file for master rotation, creating a random one if it does not exist.
    pub fn load_or_create_key_file(path: &Path) -> Result<(Key32, bool), VaultError> {
        if path.exists() {
            Ok((read_key_file(path)?, false))
        } else {
            Ok((create_key_file(path)?, true))
        }
    }

    /// A new key-encryption key wrapped by this vault's master key (not yet stored).
    pub(crate) fn new_kek(&self) -> EncryptionKeyRow {
        new_kek_row(&self.master, &self.master_id).0
    }
}

fn new_kek_row(master: &Key32, master_id: &str) -> (EncryptionKeyRow, Key32) {
    let key = Key32::random();
    let id = new_id(IdKind::EncryptionKey);
    let row = EncryptionKeyRow {
        wrapped_key: master.seal(key.as_bytes(), &kek_aad(&id)),
        id,
        master_id: master_id.to_owned(),
        state: "ACTIVE".to_owned(),
        created_at: now(),
        retired_at: None,
    };
    (row, key)
}

/// PBKDF2 off the async threads (600,000 rounds take a noticeable fraction of a second).
async fn derive(passphrase: &SecretString, salt: &[u8], rounds: u32) -> Result<Key32, VaultError> {
    let passphrase = Zeroizing::new(passphrase.expose_secret().as_bytes().to_vec());
    let salt = salt.to_vec();
    tokio::task::spawn_blocking(move || Key32::derive(&passphrase, &salt, rounds))
        .await
        .map_err(|e| VaultError::MasterKey(format!("key derivation failed: {e}")))
}
