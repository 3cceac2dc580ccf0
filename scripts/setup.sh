#!/usr/bin/env bash
# Installs what building and testing ff needs and is missing; a second run only checks.
# Nothing here downloads a prebuilt binary from outside the package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

need() { command -v "$1" >/dev/null 2>&1 || die "$1 is required but not installed: $2"; }

as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "installing system packages needs root (or sudo): $*"
  fi
}

step "checking the Rust toolchain"
need cargo "install Rust with rustup (https://rustup.rs)"
need rustup "ff builds the browser module with rustup's wasm32 target"
if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown || die "cannot add the wasm32-unknown-unknown target"
fi
rustup component list --installed | grep -q '^clippy' || rustup component add clippy rustfmt \
  || die "cannot add clippy and rustfmt"

step "checking wasm-bindgen-cli $WASM_BINDGEN_VERSION"
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $WASM_BINDGEN_VERSION" ]]; then
  # Not --locked: the CLI's own lock file names a crate version the registry no longer has.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force \
    || die "cannot install wasm-bindgen-cli $WASM_BINDGEN_VERSION"
fi

step "checking Chromium"
if ! command -v chromium >/dev/null 2>&1; then
  need apt-get "install Chromium with your package manager"
  as_root apt-get update -qq || die "apt-get update failed"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium \
    || die "cannot install Chromium with apt-get"
fi

step "checking the end-to-end packages (Playwright, wasm-opt, the ACP adapters)"
need node "install Node.js 20 or newer"
need npm "install npm"
stamp=end2end/node_modules/.ff-lock-stamp
if [[ ! -f "$stamp" ]] || ! cmp -s "$stamp" end2end/package-lock.json; then
  (cd end2end && npm ci --no-audit --no-fund) || die "npm ci failed in end2end/"
  cp end2end/package-lock.json "$stamp"
fi
step "checking the browser libraries the app bundles (xterm.js)"
stamp=app/node_modules/.ff-lock-stamp
if [[ ! -f "$stamp" ]] || ! cmp -s "$stamp" app/package-lock.json; then
  (cd app && npm ci --no-audit --no-fund) || die "npm ci failed in app/"
  cp app/package-lock.json "$stamp"
fi
[[ -x "$WASM_OPT" ]] || die "wasm-opt is missing from end2end/node_modules (npm ci did not install binaryen)"
echo "setup complete"
