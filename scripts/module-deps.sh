#!/usr/bin/env bash
# Lists, for each top-level module of socketio-core, the other top-level modules it names
# (`crate::X`, `use crate::{X, ..}`, `super::` chains up to the crate root, names re-exported by
# lib.rs), then says whether they import each other in a cycle (issue #12: they must not).
# The analysis is the test socketio-core/tests/module_deps.rs, which CI runs with the others;
# this script runs it and prints its graph. Exit status 1 when there is a cycle.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(cargo test -q -p socketio-core --test module_deps top_level_modules -- --nocapture 2>&1) && rc=0 || rc=1
echo "$out" | grep -E '^[a-z_0-9]+: |^no cycle|cycle: ' || echo "$out"
exit $rc
