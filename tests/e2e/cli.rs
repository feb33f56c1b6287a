//! The `patchbay` binary: print-schema, migrate, token management, clear start-up errors.

use std::process::{Command, Output};

use serde_json::json;

use crate::support::{Backend, TestServer};

fn patchbay(args: &[&str], data_dir: &std::path::Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_patchbay"))
        .args(args)
        .env("PATCHBAY_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env_remove("PATCHBAY_DATABASE_URL")
        .output()
        .expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn print_schema_prints_the_sdl() {
    let dir = tempfile::tempdir().unwrap();
    let output = patchbay(&["print-schema"], dir.path());
    assert!(output.status.success());
    assert_eq!(stdout(&output), patchbay::graphql::sdl());
}

#[test]
fn migrate_applies_and_reverts() {
    let dir = tempfile::tempdir().unwrap();
    let output = patchbay(&["migrate"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("applied"));
    let output = patchbay(&["migrate"], dir.path());
    assert!(stdout(&output).contains("nothing to do"));
    let output = patchbay(&["migrate", "--revert"], dir.path());
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("reverted"));
    let output = patchbay(&["migrate"], dir.path());
    assert!(stdout(&output).contains("applied"));
}

#[test]
fn bad_settings_fail_clearly_without_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&[&str], &str); 4] = [
        (
            &["--database-url", "mysql://x", "migrate"],
            "DATABASE_URL must start with",
        ),
        (
            &["--database-url", "postgres://", "migrate"],
            "DATABASE_URL",
        ),
        (
            &[
                "--database-url",
                "postgres://nobody:hunter2@127.0.0.1:1/db",
                "migrate",
            ],
            "cannot connect to PostgreSQL",
        ),
        (
            &["--data-dir", "/dev/null/patchbay", "migrate"],
            "cannot create the data directory",
        ),
    ];
    for (args, expected) in cases {
        let output = patchbay(args, dir.path());
        assert!(!output.status.success(), "{args:?}");
        let err = stderr(&output);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert!(
            !err.contains("hunter2"),
            "the password never appears: {err}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_are_managed_from_the_command_line() {
    let server = TestServer::start(Backend::Sqlite).await;
    let dir = match &server.store {
        crate::support::TestStore::Sqlite(dir) => dir.path().to_path_buf(),
        crate::support::TestStore::Postgres(_) => unreachable!(),
    };
    let project = server.create_project("Acme").await;
    let output = patchbay(
        &[
            "token",
            "create",
            "--role",
            "viewer",
            "--project",
            &project,
            "--name",
            "dashboard",
        ],
        &dir,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let secret = stdout(&output).trim().to_owned();
    assert!(secret.starts_with("pbk_"));
    let data = server
        .ok(
            &secret,
            "{ viewer { name role project { id } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        data["viewer"],
        json!({ "name": "dashboard", "role": "VIEWER", "project": { "id": project } })
    );

    let output = patchbay(&["token", "list"], &dir);
    let listing = stdout(&output);
    assert!(listing.contains("dashboard") && listing.contains("bootstrap admin"));
    assert!(!listing.contains(&secret), "secrets are never listed");
    let id = listing
        .lines()
        .find(|l| l.contains("dashboard"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned();
    let output = patchbay(&["token", "revoke", &id], &dir);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&patchbay(&["token", "list"], &dir)).contains("revoked"));
    let output = patchbay(&["token", "create", "--role", "OWNER"], &dir);
    assert!(!output.status.success());
    let output = patchbay(
        &[
            "token",
            "create",
            "--role",
            "ADMIN",
            "--project",
            "prj_00000000000000000000000000",
        ],
        &dir,
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("not found"));
    server.stop().await;
}
