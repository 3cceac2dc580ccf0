#!/usr/bin/env bash
# Every benchmark, each printing its numbers next to its target: the server's (cargo bench), the
# release wasm size, and the browser's (Playwright against the release binary).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/setup.sh
step "server benchmarks"
cargo bench --locked -p ff-server
step "release build (wasm size against its budget)"
scripts/build.sh --release
step "browser benchmarks"
(cd end2end && FF_BIN=../target/release/ff FF_BENCH=1 npx playwright test)
