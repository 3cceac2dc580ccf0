#!/usr/bin/env bash
# Builds ff: the hydration module (wasm32), its JS glue and stylesheet into target/site/<profile>/pkg,
# then the `ff` binary, which embeds them. Usage: scripts/build.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

profile=debug server_flags=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release server_flags=(--release)
elif [[ $# -gt 0 ]]; then
  die "unknown argument '$1' (expected nothing or --release)"
fi

build_site "$profile"

step "building the server and the scripted test agent ($profile)"
cargo build --locked -p ff-server --bins "${server_flags[@]}"
echo "built ${CARGO_TARGET_DIR:-target}/$profile/ff"
# Printed, not enforced here: scripts/wasm-budget.sh is the check that fails.
wasm_size "$profile" || true
