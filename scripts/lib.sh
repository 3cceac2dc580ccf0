# Shared by the scripts: messages, and the pinned tool versions checked by setup.sh.
WASM_BINDGEN_VERSION=0.2.130
WASM_OPT="$(pwd)/end2end/node_modules/.bin/wasm-opt"

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
die() { printf '\033[31mff setup: %s\033[0m\n' "$*" >&2; exit 1; }
