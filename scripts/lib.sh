# Shared by the scripts: messages, and the pinned tool versions checked by setup.sh.
WASM_BINDGEN_VERSION=0.2.130
WASM_OPT="$(pwd)/end2end/node_modules/.bin/wasm-opt"

# .cargo/config.toml builds ff with `--cfg erase_components`. A RUSTFLAGS variable replaces that
# setting, and a server and browser module built apart would not hydrate: so it gets the flag too.
if [[ -n "${RUSTFLAGS+set}" && " $RUSTFLAGS " != *" --cfg erase_components "* ]]; then
  export RUSTFLAGS="$RUSTFLAGS --cfg erase_components"
fi

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mff setup: %s\033[0m\n' "$*" >&2; exit 1; }

# The release browser module's budget, gzipped as a browser downloads it (issue 20). Its size is
# a function of the source alone, so the check is deterministic: no timing involved.
WASM_BUDGET_GZIP=$((1024 * 1024))

# Builds the browser module (wasm32), its JS glue and stylesheet into target/site/<profile>/pkg,
# wasm-opt'ed for release. Usage: build_site debug|release
build_site() {
  local profile=$1 wasm_profile=dev wasm_dir=debug
  [[ "$profile" == release ]] && wasm_profile=wasm-release wasm_dir=wasm-release
  # The site lives in the repository's target/ (the server's build script embeds it from
  # there); compiler output goes wherever CARGO_TARGET_DIR says.
  local pkg="target/site/$profile/pkg" out="${CARGO_TARGET_DIR:-target}"
  step "building the browser module ($profile)"
  cargo build --locked -p ff-app --lib --target wasm32-unknown-unknown \
    --no-default-features --features hydrate --profile "$wasm_profile"
  rm -rf "$pkg.tmp" && mkdir -p "$pkg.tmp"
  wasm-bindgen --target web --no-typescript --out-dir "$pkg.tmp" --out-name ff \
    "$out/wasm32-unknown-unknown/$wasm_dir/ff_app.wasm"
  if [[ "$profile" == release ]]; then
    step "optimizing the browser module (wasm-opt)"
    "$WASM_OPT" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
      -o "$pkg.tmp/ff_bg.wasm" "$pkg.tmp/ff_bg.wasm"
  fi
  cp style/ff.css style/favicon.svg "$pkg.tmp/"
  # xterm.js for the terminals, from the npm packages setup.sh installs into app/node_modules.
  local xterm=app/node_modules/@xterm
  [[ -f "$xterm/xterm/lib/xterm.js" ]] || die "xterm.js is missing from app/node_modules: run scripts/setup.sh"
  mkdir -p "$pkg.tmp/xterm"
  cp "$xterm/xterm/lib/xterm.js" "$xterm/xterm/css/xterm.css" \
    "$xterm/addon-fit/lib/addon-fit.js" "$xterm/addon-web-links/lib/addon-web-links.js" "$pkg.tmp/xterm/"
  # Replace the site in one step so the server never embeds a half-written one.
  rm -rf "$pkg" && mv "$pkg.tmp" "$pkg"
}

# Prints the module's raw and gzipped sizes beside the budget; returns 1 when a release module
# is over it. Usage: wasm_size debug|release
wasm_size() {
  local profile=$1 file="target/site/$1/pkg/ff_bg.wasm" raw gz verdict
  raw=$(wc -c < "$file")
  gz=$(gzip -9nc "$file" | wc -c)
  if [[ "$profile" != release ]]; then
    echo "wasm ($profile): $raw bytes, $gz gzipped (the budget applies to release)"
  elif (( gz <= WASM_BUDGET_GZIP )); then
    echo "wasm (release): $raw bytes, $gz gzipped; budget $WASM_BUDGET_GZIP gzipped (1 MiB): within"
  else
    echo "wasm (release): $raw bytes, $gz gzipped; budget $WASM_BUDGET_GZIP gzipped (1 MiB): OVER by $((gz - WASM_BUDGET_GZIP)) bytes"
    return 1
  fi
}
