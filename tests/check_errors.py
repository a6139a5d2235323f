#!/usr/bin/env python3
"""Every stable code in the sources must have a row in docs/ERRORS.md, and every row must
name a real code. The codes are the SS_ERR_* of each layer's header (the core's
include/silosec/error.h, the stream's, the knock's, the tunnel's isolation codes, the
sandbox's) and the SS_TUN_* drop names of the tunnel daemon. Also: no two codes share a
number, and every SS_ERR_* code is named in a table (src/core/error.c or a layer's
errors.c) so that ss_err_name knows it."""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
HEADERS = [
    "include/silosec/error.h",
    "src/stream/stream.h",
    "src/knock/knock.h",
    "src/tunnel/isolation.h",
    "src/sandbox/sandbox.h",
]
TABLES = ["src/core/error.c", "src/stream/errors.c", "src/knock/errors.c",
          "src/tunnel/errors.c", "src/sandbox/errors.c"]
problems = []

numbers = {}
for h in HEADERS:
    for name, num in re.findall(r"^\s*(SS_ERR_[A-Z0-9_]+|SS_OK)\s*=\s*(-?\d+)", (root / h).read_text(), re.M):
        if int(num) in numbers:
            problems.append(f"{h}: {name} = {num}, the number of {numbers[int(num)]}")
        numbers[int(num)] = name
codes = set(numbers.values())
named = set()
for t in TABLES:
    named |= set(re.findall(r'\{\s*(SS_ERR_[A-Z0-9_]+|SS_OK),\s*"\1"', (root / t).read_text()))
for c in sorted(codes - named):
    problems.append(f"{c} has no name in {', '.join(TABLES)}")

codes |= set(re.findall(r'"(SS_TUN_[A-Z0-9_]+)"', (root / "src/tunnel/daemon.c").read_text()))
rows = set(re.findall(r"^\| (SS_[A-Z0-9_]+) \|", (root / "docs/ERRORS.md").read_text(), re.M))
missing = sorted(codes - rows)
unknown = sorted(rows - codes)
for c in missing:
    problems.append(f"docs/ERRORS.md: no row for {c}")
for c in unknown:
    problems.append(f"docs/ERRORS.md: row for {c}, which the sources do not define")
for p in problems:
    print(p)
print(f"{len(codes)} codes, {len(missing)} missing, {len(unknown)} unknown, {len(problems)} problems")
sys.exit(1 if problems else 0)
