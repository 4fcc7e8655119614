#!/usr/bin/env bash
# A user's clean debug build of a fresh binary project that depends only on one connector crate,
# measured with `cargo build --timings`: wall time, unit count, and the unit times of this
# project's crates (airbyte-agent-*).
#
#   bench/build-time/run.sh [CONNECTOR] [FEATURES]
#   bench/build-time/run.sh stripe                 # all entity features (the default)
#   bench/build-time/run.sh stripe customers       # one entity feature
#
# DEPENDENCY=registry (the default) depends on the crates as a user of the published crates
# does: from a non-path source (a git snapshot of the working tree, including uncommitted
# changes), so cargo builds them like any crates.io dependency (no incremental compilation,
# lints capped). DEPENDENCY=path depends on them by path, as a workspace member would: cargo
# then builds them incrementally (more codegen units, more LLVM work) with full lints.
# REPO=DIR measures another checkout of this repository (e.g. an older commit's worktree).
# REBUILDS=N (default 2) then rebuilds only this project's crates N times, the dependencies
# staying built (what an update of the connector crate costs; steadier than the full build,
# where our crates share the 2 cores with the dependency tree).
#
# Uses a fresh target directory each time (crates.io downloads are cached by cargo as usual).
set -euo pipefail
repo="${REPO:-$(cd "$(dirname "$0")/../.." && pwd)}"
connector="${1:-stripe}"
features="${2:-}"
dependency="${DEPENDENCY:-registry}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
case "$dependency" in
  path) source="path = \"$repo/connectors/airbyte-agent-$connector\"" ;;
  registry)
    # A snapshot of the tree as it is (committed or not), without build output.
    mkdir -p "$work/src"
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard) |
      (cd "$repo" && xargs -0 cp --parents -t "$work/src" 2>/dev/null) || true
    git -C "$work/src" init -q
    git -C "$work/src" add -A
    git -C "$work/src" -c user.name=bench -c user.email=bench@localhost commit -qm snapshot
    source="git = \"file://$work/src\""
    ;;
  *) echo "DEPENDENCY must be registry or path" >&2; exit 2 ;;
esac
if [[ -n "$features" ]]; then
  dep="airbyte-agent-$connector = { $source, default-features = false, features = [\"$features\"] }"
else
  dep="airbyte-agent-$connector = { $source }"
fi
mkdir -p "$work/app/src"
cat > "$work/app/Cargo.toml" <<TOML
[package]
name = "build-time-app"
version = "0.1.0"
edition = "2024"

[dependencies]
$dep
tokio = { version = "1", features = ["rt-multi-thread", "macros"] }

[workspace]
TOML
crate="airbyte_agent_${connector//-/_}"
cat > "$work/app/src/main.rs" <<RS
fn main() {
    println!("{}", ${crate}::meta::SPEC_VERSION);
}
RS
cp "$repo/Cargo.lock" "$work/app/Cargo.lock" 2>/dev/null || true
cd "$work/app"
cargo fetch -q 2>/dev/null || true
start=$(date +%s.%N)
CARGO_TARGET_DIR="$work/target" cargo build -q --timings 2>/dev/null
end=$(date +%s.%N)
report="$(ls "$work"/target/cargo-timings/cargo-timing-*.html | head -1)"
summary() {
python3 - "$@" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
m = re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S)
units = json.loads(m.group(1))
ours = [(u["name"], u["duration"], u.get("rmeta_time"), u["start"]) for u in units
        if u["name"].startswith("airbyte-agent")]
wall = float(sys.argv[3]) - float(sys.argv[2])
print(f"{sys.argv[5]}: wall {wall:.1f} s, {len(units)} units ({sys.argv[4]} dependency)")
for name, d, rmeta, at in sorted(ours, key=lambda x: -x[1]):
    front = f", metadata after {rmeta:.1f} s" if rmeta else ""
    print(f"  {name}: {d:.1f} s (from {at:.1f} s{front})")
print(f"  our crates: {sum(u[1] for u in ours):.1f} s")
PY
}
summary "$report" "$start" "$end" "$dependency" "clean build"
for i in $(seq 1 "${REBUILDS:-2}"); do
  rm -rf "$work"/target/cargo-timings
  for pkg in airbyte-agent-core airbyte-agent-runtime "airbyte-agent-$connector"; do
    # (an older checkout may have no core crate)
    CARGO_TARGET_DIR="$work/target" cargo clean -q -p "$pkg" 2>/dev/null || true
  done
  start=$(date +%s.%N)
  CARGO_TARGET_DIR="$work/target" cargo build -q --timings 2>/dev/null
  end=$(date +%s.%N)
  report="$(ls "$work"/target/cargo-timings/cargo-timing-*.html | head -1)"
  summary "$report" "$start" "$end" "$dependency" "rebuild $i of our crates"
done
