#!/usr/bin/env bash
# Puts `ff` on PATH: builds it (release, with its browser assets embedded, so the binary needs
# nothing beside it) and copies it into a bin directory, ~/.local/bin by default.
# Usage: scripts/install.sh [--bin-dir DIR] [--debug]
#   --debug   install the debug build (what scripts/build.sh without --release makes); CI uses it
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh

bin_dir="${HOME:?HOME is not set}/.local/bin" profile=release
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bin-dir) [[ $# -ge 2 ]] || die "--bin-dir needs a directory"; bin_dir="$2"; shift 2 ;;
    --debug) profile=debug; shift ;;
    *) die "unknown argument '$1' (expected --bin-dir DIR and/or --debug)" ;;
  esac
done

scripts/setup.sh
if [[ "$profile" == release ]]; then scripts/build.sh --release; else scripts/build.sh; fi

step "installing ff into $bin_dir"
mkdir -p "$bin_dir"
# Copied beside, then renamed: a running ff keeps its old binary, nobody sees half a file.
install -m 0755 "${CARGO_TARGET_DIR:-target}/$profile/ff" "$bin_dir/.ff.new"
mv -f "$bin_dir/.ff.new" "$bin_dir/ff"
"$bin_dir/ff" --version
case ":$PATH:" in
  *":$bin_dir:"*) echo "ff is installed: run 'ff serve' from any directory" ;;
  *) echo "ff is installed in $bin_dir, which is not on your PATH; add it, e.g. to ~/.profile:"
     echo "  export PATH=\"$bin_dir:\$PATH\"" ;;
esac
