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
        crate::support::TestStore::Postgres(..) => unreachable!(),
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

/// Reads stdout lines until one contains `marker`; returns them all.
fn read_until(
    lines: &mut impl Iterator<Item = std::io::Result<String>>,
    marker: &str,
) -> Vec<String> {
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("stdout line");
        let done = line.contains(marker);
        seen.push(line);
        if done {
            return seen;
        }
    }
    panic!("the server never printed `{marker}`: {seen:?}");
}

fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let killed = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    child.wait().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_prints_the_login_url_once_logs_json_and_stops_on_sigterm() {
    use std::io::{BufRead, BufReader, Read};
    use std::process::Stdio;
    let dir = tempfile::tempdir().unwrap();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_patchbay"))
            .args([
                "--listen",
                "127.0.0.1:0",
                "--log-format",
                "json",
                "--log-level",
                "debug",
            ])
            .env("PATCHBAY_DATA_DIR", dir.path())
            .env_remove("DATABASE_URL")
            .env_remove("PATCHBAY_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let mut child = start();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = read_until(&mut lines, "Log in to GraphiQL by opening:");
    assert!(
        banner
            .iter()
            .any(|l| l.contains("master key file") && l.contains("mode 0600")),
        "{banner:?}"
    );
    let login = banner
        .last()
        .unwrap()
        .split_whitespace()
        .last()
        .unwrap()
        .to_owned();
    let (base, token) = login
        .split_once("/graphql#token=")
        .expect("a login URL with the token in the fragment");
    assert!(
        banner
            .iter()
            .any(|l| l.contains(&format!("GraphiQL:  {base}/graphql")))
    );
    let http = reqwest::Client::new();
    let body: serde_json::Value = http
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": "{ viewer { role } }" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["data"]["viewer"]["role"], "ADMIN");
    // Credentials set through the API appear in no response and no log line.
    let marker = crate::support::SECRET_MARKER;
    let gql = |query: &str, variables: serde_json::Value| {
        http.post(format!("{base}/graphql"))
            .bearer_auth(token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
    };
    let text = gql(
        "mutation { createProject(input: { name: \"P\" }) { project { id } } }",
        json!({}),
    )
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    let project = serde_json::from_str::<serde_json::Value>(&text).unwrap()["data"]["createProject"]["project"]["id"].clone();
    let text = gql("mutation($p: ID!) { createIntegration(input: { projectId: $p, name: \"I\", category: CUSTOM }) { integration { id } } }", json!({ "p": project })).await.unwrap().text().await.unwrap();
    let integration = serde_json::from_str::<serde_json::Value>(&text).unwrap()["data"]["createIntegration"]["integration"]["id"].clone();
    for credentials in [
        json!({ "bearer": { "token": format!("t-{marker}") } }),
        json!({ "bearer": { "token": "" } }),
        json!({ "basic": { "username": "u", "password": marker } }),
    ] {
        let text = gql("mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { credentials { kind setFields } } } }", json!({ "i": { "integrationId": integration, "credentials": credentials } }))
            .await.unwrap().text().await.unwrap();
        assert!(!text.contains(marker), "{text}");
    }
    let status = terminate(&mut child);
    assert!(status.success(), "graceful shutdown exits 0: {status}");
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let log_lines: Vec<&str> = stderr.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(!log_lines.is_empty());
    for line in &log_lines {
        let entry: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(entry["level"].is_string());
        assert!(!line.contains(token), "the token never reaches the log");
        assert!(
            !line.contains(marker),
            "no credential reaches the log: {line}"
        );
    }

    // A second start on the same store creates no new token.
    let mut child = start();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let banner = read_until(&mut lines, "log in:");
    assert!(!banner.iter().any(|l| l.contains("pbk_")), "{banner:?}");
    assert!(terminate(&mut child).success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotate_key_moves_the_ring_to_a_new_master_key() {
    let mut server = TestServer::start(Backend::Sqlite).await;
    let project = server.create_project("P").await;
    let integration = server.create_integration(&project, "I").await;
    let set = "mutation($i: SetCredentialsInput!) { setCredentials(input: $i) { integration { credentials { keyId } } } }";
    let data = server.ok(&server.admin, set, json!({ "i": { "integrationId": integration, "credentials": { "bearer": { "token": "tok-1" } } } })).await;
    let old_key = data["setCredentials"]["integration"]["credentials"]["keyId"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut settings = server.store.settings();
    server.server.take().unwrap().stop().await;
    let dir = settings.data_dir.clone().unwrap();
    let new_key = dir.join("new-master.key");

    let output = patchbay(
        &[
            "rotate-key",
            "--new-master-key-file",
            new_key.to_str().unwrap(),
        ],
        &dir,
    );
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(
        stdout(&output).contains("1 data keys"),
        "{}",
        stdout(&output)
    );
    assert!(stdout(&output).contains("restart patchbay with --master-key-file"));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&new_key).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    // The old master key no longer opens the store; the new one does, and the credential too.
    let err = match patchbay::server::start(
        patchbay::config::Config::from_settings(settings.clone()).unwrap(),
    )
    .await
    {
        Ok(_) => panic!("the old master key must be refused"),
        Err(err) => format!("{err:#}"),
    };
    assert!(err.contains("does not match"), "{err}");
    settings.master_key_file = Some(new_key);
    let running =
        patchbay::server::start(patchbay::config::Config::from_settings(settings).unwrap())
            .await
            .unwrap();
    let material = patchbay::domain::credentials::auth_material(&running.app, &integration)
        .await
        .unwrap();
    assert_eq!(material.header("authorization"), Some("Bearer tok-1"));
    let info = patchbay::domain::credentials::info(&running.app.store, &integration)
        .await
        .unwrap()
        .unwrap();
    assert_ne!(
        info.key_id, old_key,
        "the data key moved to a new key-encryption key"
    );
    running.stop().await;
}
