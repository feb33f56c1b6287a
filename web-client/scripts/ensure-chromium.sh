#!/usr/bin/env bash
# Installs Debian's chromium (for `npm run e2e`) when /usr/bin/chromium is absent.
# Browser downloads by npm packages (npx playwright install) do not work here: use apt.
set -euo pipefail
CHROMIUM="${PATCHBAY_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$CHROMIUM" ]; then
  echo "chromium present: $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "FATAL: $CHROMIUM is missing and apt-get is not available; install Chromium and set PATCHBAY_CHROMIUM" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
echo "installing Debian's chromium with apt-get"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
"$CHROMIUM" --version
