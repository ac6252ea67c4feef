#!/usr/bin/env bash
# Installs what the OAuth browser test (tests/oauth_browser.rs) needs: Debian's headless
# Chromium. Idempotent: does nothing when `chromium` is already on PATH.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
    echo "chromium already installed: $(chromium --version 2>/dev/null || true)"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
[ -n "${ATOMBOT_APT_UPDATED:-}" ] || $SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
chromium --version
