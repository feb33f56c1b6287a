//! Vault micro-benchmarks: sealing and opening a typical credential, and the master
//! key derivation done once at start-up. Run with `cargo bench --bench vault`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test and load tools: a panic is a failed run

use criterion::{Criterion, criterion_group, criterion_main};
use patchbay::store::vault::CredentialRow;
use patchbay::vault::Vault;
use patchbay::vault::credentials::CredentialSecret;
use patchbay::vault::crypto::{Key32, PBKDF2_ROUNDS};

fn typical_credential() -> CredentialSecret {
    CredentialSecret::Oauth2 {
        client_id: "3MVG9lKcPoNINVBJSoQsNCD.HHDdbugPsNXwwyFbgb47KWa_PTv".to_owned(),
        client_secret: Some("5678471853609579508".to_owned()),
        token_url: "https://login.example.com/services/oauth2/token".to_owned(),
        scopes: vec!["api".to_owned(), "refresh_token".to_owned()],
        access_token: Some("00D50000000IZ3Z!AQ0AQDpEDKYsn7ioKug2aSmgCjgrPjG9eRLza8jXWoW7uA90V39rvQaIy1FGxjFHN1ZtusBGljncdEi8eRiuit1QdQ1Z2KSV".to_owned()),
        refresh_token: Some("5Aep861KIwKdekr90I4iHdtDgWwRoG7O_6uHrgJ.yVtMS0UaGxRYypc0xROGTYnvcCaJUSmUBTWWQ==".to_owned()),
        expires_at: Some(1_800_000_000),
        authorize_url: None,
    }
}

fn seal_and_open(c: &mut Criterion) {
    let vault = Vault::for_testing();
    let secret = typical_credential();
    c.bench_function("seal typical OAuth2 credential", |b| {
        b.iter(|| {
            vault
                .seal("int_01m832xkt6epsswcavqqazfnmb", &secret)
                .map(|s| s.sealed.len())
        })
    });
    let sealed = vault
        .seal("int_01m832xkt6epsswcavqqazfnmb", &secret)
        .unwrap_or_else(|e| panic!("{e}"));
    let row = CredentialRow {
        integration_id: "int_01m832xkt6epsswcavqqazfnmb".to_owned(),
        kind: "OAUTH2".to_owned(),
        key_id: sealed.key_id,
        wrapped_dek: sealed.wrapped_dek,
        sealed: sealed.sealed,
        set_fields: "[]".to_owned(),
        expires_at: None,
        refresh_error: None,
        refresh_failed_at: None,
        updated_at: chrono::Utc::now().naive_utc(),
    };
    c.bench_function("open typical OAuth2 credential", |b| {
        b.iter(|| vault.open(&row).is_ok())
    });
}

fn master_key_derivation(c: &mut Criterion) {
    let mut group = c.benchmark_group("start-up");
    group.sample_size(10);
    group.bench_function("PBKDF2-HMAC-SHA256, 600,000 rounds", |b| {
        b.iter(|| {
            Key32::derive(
                b"correct horse battery staple",
                b"0123456789abcdef",
                PBKDF2_ROUNDS,
            )
        })
    });
    group.finish();
}

criterion_group!(benches, seal_and_open, master_key_derivation);
criterion_main!(benches);
