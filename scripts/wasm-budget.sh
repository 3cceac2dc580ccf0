#!/usr/bin/env bash
# Builds the release browser module (not the server) and fails when it is over its budget of
# 1 MiB gzipped (WASM_BUDGET_GZIP in lib.sh), printing how long the release build took. Not yet
# part of scripts/test.sh: the module is still over its budget (1 173 300 bytes gzipped), and a
# check that fails on every run would keep CI red; it joins the test run once the module fits.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
started=$SECONDS
build_site release
echo "release browser module built in $((SECONDS - started)) s"
wasm_size release
