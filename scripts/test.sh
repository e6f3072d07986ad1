#!/usr/bin/env bash
# `npm test`: every package's tests (vitest) and the browser e2e of the worker demo through turbo, then one summary line
# "N passed, N failed"; exits non-zero if anything failed or nothing ran.
set -uo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 TURBO_NO_UPDATE_NOTIFIER=1
if ! command -v pnpm >/dev/null 2>&1 || [ ! -d node_modules ]; then
  echo "npm test: dependencies are not installed; run 'npm run setup' first" >&2
  exit 1
fi
rm -rf packages/*/test-results apps/*/test-results examples/*/test-results
rc=0
pnpm turbo run test e2e --continue --force || rc=$?
node scripts/test-summary.mjs || rc=1
exit "$rc"
