#!/usr/bin/env python3
"""Per-record self cost by function: the difference of two callgrind runs of decode-profile
that differ only in --iters, divided by the extra records decoded.

usage: cgdiff.py SMALL.out LARGE.out RECORDS [TOP]
"""
import re
import subprocess
import sys


def self_costs(path):
    out = subprocess.run(
        ["callgrind_annotate", "--threshold=100", path],
        capture_output=True, text=True, check=True,
    ).stdout
    costs = {}
    for line in out.splitlines():
        m = re.match(r"\s*([\d,]+) \([ \d.]+%\)\s+(.*)$", line)
        if m and "PROGRAM TOTALS" not in line:
            name = re.sub(r" \[[^\]]*\]$", "", m.group(2))
            costs[name] = costs.get(name, 0) + int(m.group(1).replace(",", ""))
        elif "PROGRAM TOTALS" in line:
            costs["__total__"] = int(line.split()[0].replace(",", ""))
    return costs


def main():
    small, large, records = sys.argv[1], sys.argv[2], int(sys.argv[3])
    top = int(sys.argv[4]) if len(sys.argv) > 4 else 25
    a, b = self_costs(small), self_costs(large)
    diff = {k: (b.get(k, 0) - a.get(k, 0)) / records for k in set(a) | set(b)}
    total = diff.pop("__total__")
    print(f"{total:10.0f}  instructions per record (total)")
    for k, v in sorted(diff.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{v:10.0f}  {100 * v / total:5.1f}%  {k[:150]}")


main()
