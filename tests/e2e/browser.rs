//! The web client in a real browser: runs `web-client`'s end-to-end suite (headless
//! Chromium driven by playwright-core) against this build's `patchbay` binary. It needs
//! `npm ci` in `web-client/` and Debian's chromium; without them it says loudly that it
//! was skipped, and with `PATCHBAY_REQUIRE_BROWSER=1` (CI) it fails instead.

use std::io::Write;
use std::path::Path;
use std::process::Command;

#[test]
fn the_dashboard_works_in_a_real_browser() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let client = root.join("web-client");
    let chromium =
        std::env::var("PATCHBAY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let required = std::env::var("PATCHBAY_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
    let mut missing = Vec::new();
    if !client.join("node_modules/playwright-core").exists() {
        missing.push("web-client/node_modules (run `npm ci` in web-client/)".to_owned());
    }
    if !Path::new(&chromium).exists() {
        missing.push(format!("{chromium} (apt-get install -y chromium)"));
    }
    if Command::new("node").arg("--version").output().is_err() {
        missing.push("node".to_owned());
    }
    if !missing.is_empty() {
        assert!(
            !required,
            "PATCHBAY_REQUIRE_BROWSER=1 but missing: {}",
            missing.join(", ")
        );
        let _ = writeln!(
            std::io::stderr(),
            "\n*** SKIPPED: the browser suite did not run; missing: {}.\n\
             *** See web-client/README.md (bash web-client/scripts/ensure-chromium.sh).\n",
            missing.join(", ")
        );
        return;
    }
    let output = Command::new("node")
        .arg("e2e/run.mjs")
        .current_dir(&client)
        .env("PATCHBAY_BIN", env!("CARGO_BIN_EXE_patchbay"))
        .env("PATCHBAY_E2E_SITE", "server")
        .env("PATCHBAY_CHROMIUM", &chromium)
        .output()
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "the browser suite failed:\n{stdout}\n{stderr}"
    );
    // The suite's last line is its tally ("N passed, 0 failed").
    let tally = stdout
        .lines()
        .rev()
        .find(|l| l.contains("passed"))
        .unwrap_or_default();
    assert!(tally.ends_with(", 0 failed"), "{stdout}");
}
