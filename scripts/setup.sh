#!/usr/bin/env bash
# `npm run setup`: installs everything a fresh machine with only Node 20 and npm
# needs, builds every package, and runs the main job on a bundled example.
# Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1

PNPM_VERSION=$(node -p 'require("./package.json").packageManager.split("@")[1]')
if [ "$(pnpm --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  # A Corepack shim at <npm prefix>/bin/pnpm makes `npm i -g pnpm` fail with EEXIST (TOOLCHAIN.md).
  shim="$(npm prefix -g)/bin/pnpm"
  if [ -L "$shim" ] && readlink "$shim" | grep -q corepack; then rm -f "$shim" "$(npm prefix -g)/bin/pnpx"; fi
  echo "setup: installing pnpm $PNPM_VERSION"
  npm install -g --allow-scripts=pnpm "pnpm@$PNPM_VERSION" >/dev/null
fi

# The worker demo's browser e2e drives Debian's Chromium (playwright cannot download a browser here).
if ! command -v chromium >/dev/null 2>&1 && [ -z "${CHROMIUM_PATH:-}" ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing chromium (Debian) for the browser e2e"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) ||
      echo "setup: warning: chromium could not be installed; the browser e2e will be skipped" >&2
  else
    echo "setup: note: no chromium (sudo apt-get install chromium); the browser e2e will be skipped" >&2
  fi
fi

# The --backend tests start their own redis-server (Debian's) on a free port; without it they skip and say so.
if ! command -v redis-server >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "setup: installing redis-server (Debian) for the --backend tests"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null) ||
      echo "setup: warning: redis-server could not be installed; the --backend tests will be skipped" >&2
  else
    echo "setup: note: no redis-server (sudo apt-get install redis-server); the --backend tests will be skipped" >&2
  fi
fi

echo "setup: installing dependencies"
pnpm install --frozen-lockfile
echo "setup: building"
pnpm turbo run build --output-logs=errors-only

# The main job: simulate the bundled web tier (24 replicas on 8 hosts, 3 replications).
echo "setup: running the bundled example (turtles run examples/web-tier.yaml)"
node apps/cli/bin/run.js run examples/web-tier.yaml
