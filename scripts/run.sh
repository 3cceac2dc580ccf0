#!/usr/bin/env bash
# Sets up what is missing, builds ff in release mode and runs it on 127.0.0.1 with the embedded
# SQLite database. Extra arguments go to `ff serve` (e.g. --port 0, --data-dir DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh --release
exec target/release/ff serve "$@"
