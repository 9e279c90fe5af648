#!/usr/bin/env bash
# Builds the libFuzzer targets of socketio-core/fuzz/ and runs each for a bounded time,
# then prints per target the executions and coverage (libFuzzer's final `cov:` / `ft:` and
# `stat::number_of_executed_units`). Fails when a target crashes, hangs (-timeout) or runs
# out of memory (-rss_limit_mb); the input that did it is left in
# socketio-core/fuzz/artifacts/<target>/ (turn it into a unit test, see fuzz/README.md).
#
#   scripts/fuzz.sh [seconds per target, default 30] [target ...]   (default: every target)
#
# Needs only the stable toolchain and a C++ compiler: it builds with plain cargo, the
# sanitizer-coverage flags cargo-fuzz passes and libfuzzer-sys (no cargo-fuzz, no nightly, no
# AddressSanitizer: the targets are safe Rust, and ASan would double the build). Set
# FUZZ_ASAN=1 to add -Zsanitizer=address (through RUSTC_BOOTSTRAP=1, as the toolchain is
# stable). Each target's working corpus is socketio-core/fuzz/target/corpus/<target>/ (kept
# between runs), seeded from the committed socketio-core/fuzz/corpus/<target>/.
set -euo pipefail
cd "$(dirname "$0")/../socketio-core/fuzz"
export CARGO_TERM_COLOR=never

secs="${1:-30}"
shift || true
all=$(sed -n 's/^name = "\(.*\)"$/\1/p' Cargo.toml | grep -v '^socketio-fuzz$')
targets="${*:-$all}"

host=$(rustc -vV | sed -n 's/^host: //p')
flags="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4"
flags+=" -Cllvm-args=-sanitizer-coverage-inline-8bit-counters"
flags+=" -Cllvm-args=-sanitizer-coverage-pc-table -Cllvm-args=-sanitizer-coverage-trace-compares"
flags+=" -Cllvm-args=-sanitizer-coverage-stack-depth --cfg fuzzing"
if [ "${FUZZ_ASAN:-0}" = 1 ]; then
  flags+=" -Zsanitizer=address"
  export RUSTC_BOOTSTRAP=1
fi
echo "==> building fuzz targets ($host)"
start=$(date +%s)
# --target keeps the flags off build scripts and proc macros, as cargo-fuzz does
RUSTFLAGS="$flags" cargo build --release --locked --target "$host" --bins ${CARGO_BUILD_JOBS:+-j "$CARGO_BUILD_JOBS"}
echo "    built in $(( $(date +%s) - start )) s"
bin="${CARGO_TARGET_DIR:-target}/$host/release"

failed=()
summary=()
for t in $targets; do
  work="target/corpus/$t"
  mkdir -p "$work" "artifacts/$t"
  log="target/fuzz-$t.log"
  echo "==> $t (${secs} s)"
  rc=0
  "$bin/$t" "$work" "corpus/$t" \
    -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="artifacts/$t/" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  last=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corpus=$(sed -n 's/.* corp: \([0-9]*\/[0-9]*[a-zA-Z]*\).*/\1/p' <<<"$last")
  line=$(printf '%-18s execs %-10s cov %-6s ft %-7s corpus %s' "$t" "${execs:-?}" "${cov:-?}" "${ft:-?}" "${corpus:-?}")
  if [ "$rc" -ne 0 ]; then
    line+="  FAILED (exit $rc, see socketio-core/fuzz/$log and artifacts/$t/)"
    failed+=("$t")
    grep -E 'panicked|ERROR: libFuzzer|SUMMARY|Test unit written' "$log" | head -5 || true
  fi
  echo "    $line"
  summary+=("$line")
done

echo "==> fuzz summary (${secs} s per target)"
printf '    %s\n' "${summary[@]}"
if [ "${#failed[@]}" -gt 0 ]; then
  echo "fuzz targets failed: ${failed[*]}" >&2
  exit 1
fi
