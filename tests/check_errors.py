#!/usr/bin/env python3
"""Every stable code in the sources (SS_ERR_* in error.h, SS_TUN_* drop names in the
tunnel daemon) must have a row in docs/ERRORS.md, and every row must name a real code."""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent)
codes = set(re.findall(r"^\s*(SS_ERR_[A-Z0-9_]+|SS_OK)\s*=", (root / "include/silosec/error.h").read_text(), re.M))
codes |= set(re.findall(r'"(SS_TUN_[A-Z0-9_]+)"', (root / "src/tunnel/daemon.c").read_text()))
rows = set(re.findall(r"^\| (SS_[A-Z0-9_]+) \|", (root / "docs/ERRORS.md").read_text(), re.M))
missing = sorted(codes - rows)
unknown = sorted(rows - codes)
for c in missing:
    print(f"docs/ERRORS.md: no row for {c}")
for c in unknown:
    print(f"docs/ERRORS.md: row for {c}, which the sources do not define")
print(f"{len(codes)} codes, {len(missing)} missing, {len(unknown)} unknown")
sys.exit(1 if missing or unknown else 0)
