#!/usr/bin/env bash
# The whole test suite: installs the interop clients, then runs every Rust test (unit,
# integration over loopback, interop with the real JS and Python clients, doc tests).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-interop.sh
scripts/services.sh
cargo test --workspace --locked --exclude socketio-bench
