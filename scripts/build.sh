#!/usr/bin/env bash
# Builds ff: the hydration module (wasm32), its JS glue and stylesheet into target/site/<profile>/pkg,
# then the `ff` binary, which embeds them. Usage: scripts/build.sh [--release]
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

profile=debug wasm_profile=dev wasm_dir=debug server_flags=()
if [[ "${1:-}" == "--release" ]]; then
  profile=release wasm_profile=wasm-release wasm_dir=wasm-release server_flags=(--release)
elif [[ $# -gt 0 ]]; then
  die "unknown argument '$1' (expected nothing or --release)"
fi

# The site lives in the repository's target/ (the server's build script embeds it from there);
# compiler output goes wherever CARGO_TARGET_DIR says.
pkg="target/site/$profile/pkg"
out="${CARGO_TARGET_DIR:-target}"
step "building the browser module ($profile)"
cargo build --locked -p ff-app --lib --target wasm32-unknown-unknown \
  --no-default-features --features hydrate --profile "$wasm_profile"

mkdir -p "$pkg.tmp"
wasm-bindgen --target web --no-typescript --out-dir "$pkg.tmp" --out-name ff \
  "$out/wasm32-unknown-unknown/$wasm_dir/ff_app.wasm"
if [[ "$profile" == release ]]; then
  step "optimizing the browser module (wasm-opt)"
  "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
    -o "$pkg.tmp/ff_bg.wasm" "$pkg.tmp/ff_bg.wasm"
fi
cp style/ff.css style/favicon.svg "$pkg.tmp/"
# xterm.js for the terminals, from the npm packages setup.sh installs into app/node_modules.
xterm=app/node_modules/@xterm
[[ -f "$xterm/xterm/lib/xterm.js" ]] || die "xterm.js is missing from app/node_modules: run scripts/setup.sh"
mkdir -p "$pkg.tmp/xterm"
cp "$xterm/xterm/lib/xterm.js" "$xterm/xterm/css/xterm.css" \
  "$xterm/addon-fit/lib/addon-fit.js" "$xterm/addon-web-links/lib/addon-web-links.js" "$pkg.tmp/xterm/"
# Replace the site in one step so the server never embeds a half-written one.
rm -rf "$pkg" && mv "$pkg.tmp" "$pkg"

step "building the server and the scripted test agent ($profile)"
cargo build --locked -p ff-server --bins "${server_flags[@]}"
wasm_bytes=$(wc -c < "$pkg/ff_bg.wasm")
wasm_gzip=$(gzip -9c "$pkg/ff_bg.wasm" | wc -c)
echo "built $out/$profile/ff (wasm: $wasm_bytes bytes, $wasm_gzip gzipped)"
