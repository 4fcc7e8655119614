#!/usr/bin/env bash
# A user's clean debug build of a fresh binary project that depends only on one connector crate,
# measured with `cargo build --timings`: wall time, unit count, and the unit times of this
# project's crates (airbyte-agent-*).
#
#   bench/build-time/run.sh [CONNECTOR] [FEATURES]
#   bench/build-time/run.sh stripe                 # all entity features (the default)
#   bench/build-time/run.sh stripe customers       # one entity feature
#
# Uses a fresh target directory each time (crates.io downloads are cached by cargo as usual).
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
connector="${1:-stripe}"
features="${2:-}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
if [[ -n "$features" ]]; then
  dep="airbyte-agent-$connector = { path = \"$repo/connectors/airbyte-agent-$connector\", default-features = false, features = [\"$features\"] }"
else
  dep="airbyte-agent-$connector = { path = \"$repo/connectors/airbyte-agent-$connector\" }"
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
python3 - "$report" "$start" "$end" <<'PY'
import json, re, sys
html = open(sys.argv[1]).read()
m = re.search(r"const UNIT_DATA = (\[.*?\]);", html, re.S)
units = json.loads(m.group(1))
ours = [(u["name"], u["duration"]) for u in units if u["name"].startswith("airbyte-agent")]
wall = float(sys.argv[3]) - float(sys.argv[2])
print(f"wall {wall:.1f} s, {len(units)} units")
for name, d in sorted(ours, key=lambda x: -x[1]):
    print(f"  {name}: {d:.1f} s")
print(f"  our crates: {sum(d for _, d in ours):.1f} s")
PY
