#!/usr/bin/env bash
# Sets up what is missing, then runs every check: formatting, clippy, the tests of every crate
# (per package, so `app` is never built with both `ssr` and `hydrate`), the wasm32 builds of
# `core` and of `app` with `hydrate` (the release one against its size budget), and the
# Playwright suite in system Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
scripts/setup.sh

log=target/test-output.log
mkdir -p target && : > "$log"
run() { "$@" 2>&1 | tee -a "$log"; }

# Every process this run starts (the tests' ff servers and agents included) carries this mark in
# its environment, so that the check at the end finds what this run left behind and nothing of
# another run on the same machine.
export FF_TEST_RUN="$$-$(date +%s%N)"
orphans() {
  local found=0 pid name
  for environ in /proc/[0-9]*/environ; do
    pid=${environ#/proc/}; pid=${pid%/environ}
    [ "$pid" = "$$" ] && continue
    { tr '\0' '\n' < "$environ"; } 2>/dev/null | grep -qx "FF_TEST_RUN=$FF_TEST_RUN" || continue
    name=$(cat "/proc/$pid/comm" 2>/dev/null) || continue
    case "$name" in
      ff|ff-scripted-age*)
        [ "$found" = 0 ] && echo "processes this run started are still running:" >&2
        found=1
        echo "  $pid: $(tr '\0' ' ' < "/proc/$pid/cmdline")" >&2 ;;
    esac
  done
  return "$found"
}
# Runs last, whatever failed before: a leftover ff or agent fails the run.
check_orphans() {
  local status=$?
  sleep 1
  if ! orphans; then
    echo "FAILED: the tests left processes behind (see above)" >&2
    [ "$status" = 0 ] && status=1
  fi
  exit "$status"
}
trap check_orphans EXIT

step "formatting"
cargo fmt --all --check

step "building (debug site and server; also the wasm32 build of app with hydrate)"
scripts/build.sh

step "install into a temporary directory (scripts/install.sh)"
install_dir=$(mktemp -d)
scripts/install.sh --debug --bin-dir "$install_dir/bin" >/dev/null
"$install_dir/bin/ff" --version
rm -rf "$install_dir"

step "wasm32 build of core"
cargo build --locked -p ff-core --target wasm32-unknown-unknown

step "release browser module against its size budget (scripts/wasm-budget.sh)"
scripts/wasm-budget.sh

step "clippy"
cargo clippy --locked --workspace --all-targets -- -D warnings
cargo clippy --locked -p ff-app --lib --target wasm32-unknown-unknown --no-default-features \
  --features hydrate -- -D warnings

step "tests: core"
run cargo test --locked -p ff-core
step "tests: app (ssr)"
run cargo test --locked -p ff-app --features ssr
step "tests: server"
run cargo test --locked -p ff-server

# The server's tests wrote the fake GitHub's answers to target/github-contract: every .graphql
# document and every one of those answers must hold against GitHub's published schema.
step "GraphQL contract (GitHub's schema)"
(cd end2end && node --test --test-reporter=tap contract/ && node contract/check-graphql.mjs) 2>&1 | tee -a "$log"

step "end-to-end tests (Playwright, system Chromium)"
# The fake GitHub the GitHub spec runs ff against (already built by the server's tests).
cargo build --locked -p ff-server --bin ff-fake-github
(cd end2end && CI="${CI:-}" npx playwright test) 2>&1 | tee -a "$log"

# One closing line over every runner (cargo's per-binary lines, Playwright's totals), in the plain
# form CI reads.
echo
awk '
  /test result: / { for (i = 1; i < NF; i++) { if ($(i+1) ~ /^passed;/) p += $i; if ($(i+1) ~ /^failed;/) f += $i } }
  /^ *[0-9]+ passed \(/ { p += $1 }
  /^ *[0-9]+ failed$/ { f += $1 }
  /^# pass [0-9]+$/ { p += $3 }
  /^# fail [0-9]+$/ { f += $3 }
  END { printf "all: %d passed, %d failed\n", p, f }
' "$log"
