//! Type-prefixed, time-sortable, opaque IDs (`prj_…`, `int_…`): a UUIDv7 in
//! lowercase Crockford base32. They sort by creation time, so they double as
//! Relay global IDs and as pagination cursors.

/// The kinds of object that carry an ID, and their prefixes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    Project,
    Integration,
    Token,
    Log,
    Audit,
    MasterKey,
    EncryptionKey,
    KeyRotation,
    Execution,
    Message,
    Job,
    Webhook,
    Delivery,
    Attempt,
    HealthTransition,
    AlertRule,
    Alert,
    /// One version of an integration template.
    Template,
    /// All versions of one template (what sharing and slugs apply to).
    TemplateFamily,
    /// A sync definition of an integration.
    Sync,
    /// One run of a sync.
    SyncRun,
    /// A record a sync keeps.
    SyncRecord,
}

impl IdKind {
    pub const fn prefix(self) -> &'static str {
        match self {
            IdKind::Project => "prj",
            IdKind::Integration => "int",
            IdKind::Token => "tok",
            IdKind::Log => "log",
            IdKind::Audit => "aud",
            IdKind::MasterKey => "mk",
            IdKind::EncryptionKey => "key",
            IdKind::KeyRotation => "rot",
            IdKind::Execution => "exe",
            IdKind::Message => "msg",
            IdKind::Job => "job",
            IdKind::Webhook => "whk",
            IdKind::Delivery => "dlv",
            IdKind::Attempt => "att",
            IdKind::HealthTransition => "hch",
            IdKind::AlertRule => "arl",
            IdKind::Alert => "alr",
            IdKind::Template => "tpl",
            IdKind::TemplateFamily => "tfm",
            IdKind::Sync => "syn",
            IdKind::SyncRun => "srn",
            IdKind::SyncRecord => "rec",
        }
    }

    const ALL: [IdKind; 22] = [
        IdKind::Project,
        IdKind::Integration,
        IdKind::Token,
        IdKind::Log,
        IdKind::Audit,
        IdKind::MasterKey,
        IdKind::EncryptionKey,
        IdKind::KeyRotation,
        IdKind::Execution,
        IdKind::Message,
        IdKind::Job,
        IdKind::Webhook,
        IdKind::Delivery,
        IdKind::Attempt,
        IdKind::HealthTransition,
        IdKind::AlertRule,
        IdKind::Alert,
        IdKind::Template,
        IdKind::TemplateFamily,
        IdKind::Sync,
        IdKind::SyncRun,
        IdKind::SyncRecord,
    ];

    /// The kind an ID claims by its prefix, if it is well-formed.
    pub fn of(id: &str) -> Option<IdKind> {
        let (prefix, body) = id.split_once('_')?;
        let kind = Self::ALL.into_iter().find(|k| k.prefix() == prefix)?;
        (body.len() == ENCODED_LEN && body.bytes().all(|b| ALPHABET.contains(&b))).then_some(kind)
    }
}

const ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
const ENCODED_LEN: usize = 26;

/// A new ID of the given kind.
pub fn new_id(kind: IdKind) -> String {
    // 26 symbols of 5 bits = 130 bits: the first symbol carries the top 3 bits.
    encode(kind, uuid::Uuid::now_v7().as_u128())
}

/// An ID derived from `seed` (the same seed gives the same ID on every server), for
/// records every replica creates alike (the built-in templates). Its time part is zero, so
/// derived IDs sort before every generated one.
pub fn derived_id(kind: IdKind, seed: &[u8]) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(seed);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Clear the top 48 bits (a UUIDv7's timestamp).
    let value = u128::from_be_bytes(bytes) & (u128::MAX >> 48);
    encode(kind, value)
}

fn encode(kind: IdKind, value: u128) -> String {
    let mut out = String::with_capacity(kind.prefix().len() + 1 + ENCODED_LEN);
    out.push_str(kind.prefix());
    out.push('_');
    for i in (0..ENCODED_LEN).rev() {
        let index = ((value >> (i * 5)) & 0x1f) as usize;
        out.push(ALPHABET[index] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_prefixed_well_formed_and_sorted() {
        let ids: Vec<String> = (0..1000).map(|_| new_id(IdKind::Integration)).collect();
        assert!(
            ids.iter()
                .all(|id| IdKind::of(id) == Some(IdKind::Integration))
        );
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted, "IDs must sort in creation order");
        assert_eq!(IdKind::of(&new_id(IdKind::Project)), Some(IdKind::Project));
    }

    #[test]
    fn derived_ids_are_stable_well_formed_and_sort_first() {
        let a = derived_id(IdKind::Template, b"builtin:jira:1");
        assert_eq!(a, derived_id(IdKind::Template, b"builtin:jira:1"));
        assert_ne!(a, derived_id(IdKind::Template, b"builtin:jira:2"));
        assert_eq!(IdKind::of(&a), Some(IdKind::Template));
        assert!(a < new_id(IdKind::Template));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in [
            "",
            "int_",
            "int_abc",
            "xyz_0123456789abcdefghjkmnpq",
            "int_0123456789abcdefghjkmnpU",
        ] {
            assert_eq!(IdKind::of(bad), None, "{bad}");
        }
    }
}
