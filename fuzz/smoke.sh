#!/usr/bin/env bash
# Fuzz smoke run for CI (about 45 s of fuzzing plus the build).
#
# With a nightly toolchain and cargo-fuzz installed (and FUZZ_LIBFUZZER=1), each libFuzzer target
# runs for a few seconds; otherwise the stable harness (src/bin/smoke.rs) mutates the seed inputs
# for the same time. Either way a crash fails the script.
set -euo pipefail
cd "$(dirname "$0")"
SECONDS_TOTAL="${FUZZ_SECONDS:-45}"
if [[ "${FUZZ_LIBFUZZER:-0}" == 1 ]] && command -v cargo-fuzz >/dev/null && rustup toolchain list 2>/dev/null | grep -q nightly; then
  per=$(( SECONDS_TOTAL / 3 ))
  scratch="$(mktemp -d)"
  trap 'rm -rf "$scratch"' EXIT
  for t in spec_loader record_decode jsonpath_template; do
    mkdir -p "$scratch/$t"
    seeds=()
    if [[ "$t" == spec_loader && -d ../../shared/airbyte-specs/current ]]; then
      seeds=(../../shared/airbyte-specs/current/stripe ../../shared/airbyte-specs/current/github)
    fi
    cargo +nightly fuzz run "$t" "$scratch/$t" "${seeds[@]}" -- \
      -max_total_time="$per" -max_len=262144 -rss_limit_mb=2048 -print_final_stats=1
  done
else
  cargo run --release --no-default-features --bin smoke -- --seconds "$SECONDS_TOTAL"
fi
