#!/usr/bin/env bash
# Builds the release browser module (not the server) and fails when it is over its budget of
# 1 MiB gzipped (WASM_BUDGET_GZIP in lib.sh), printing how long the release build took. Part of
# scripts/test.sh, so CI fails the day the module outgrows its budget.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
started=$SECONDS
build_site release
echo "release browser module built in $((SECONDS - started)) s"
wasm_size release
