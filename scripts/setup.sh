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

echo "setup: installing dependencies"
pnpm install --frozen-lockfile
echo "setup: building"
pnpm turbo run build --output-logs=errors-only

# The main job. Until the CLI simulates scenarios, that is the kernel benchmark
# (the quick variant; `pnpm bench` runs the full one).
echo "setup: running the kernel benchmark (turtles bench --quick)"
node apps/cli/bin/run.js bench --quick
