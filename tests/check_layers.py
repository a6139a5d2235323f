#!/usr/bin/env python3
"""The layering the build promises (common <- core <- {tunnel, stream, knock} <- cli),
checked on every #include under src/:

- outside src/core, no file includes a core header other than the declared internal API
  (core/hs.h) and the public headers in include/silosec;
- no layer includes a header of a layer above it or beside it (stream and knock do not
  include the tunnel's headers, common includes no core header but the public ones);
- no meson.build under src/ reaches into another layer's directory with
  include_directories('../core') and the like;
- libsilosec.so exports exactly the functions of the installed headers (src/libsilosec.map).
"""
import re
import sys
from pathlib import Path

root = Path(sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent.parent).resolve()
src = root / "src"

# Rank of each directory under src/: a file may include headers of lower ranks and of its
# own directory. audit and sandbox are services of the daemons, above the core.
RANK = {"common": 0, "core": 1, "audit": 2, "sandbox": 2,
        "tunnel": 3, "stream": 3, "knock": 3, "cli": 4}
CORE_API = {"core/hs.h"}  # what the core declares for the layers above it
PUBLIC = {"core.h", "error.h", "identity.h", "wire.h"}  # installed with silosec.pc
# Directories whose headers their dependency exports by bare name ("audit.h").
EXPORTED = ["tunnel", "knock", "stream", "audit", "sandbox", "cli"]

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
problems = []


def layer_of(path):
    d = path.relative_to(src).parts[0]
    return "core" if d == "lib" else d  # src/lib is built into libsilosec with the core


def resolve(inc, here):
    """The file a quoted include names, as the compiler would find it, or None."""
    for base in [here.parent, src] + [src / d for d in EXPORTED]:
        p = (base / inc).resolve()
        if p.is_file():
            return p
    return None


def core_private(name):
    return name != "hs.h" and (src / "core" / name).is_file()


def check_quoted(f, inc):
    mine = layer_of(f)
    target = resolve(inc, f)
    if target is None:
        # Not reachable from this layer's include path: still name a core-private header.
        if mine != "core" and core_private(Path(inc).name):
            return f"includes the core-private header {inc}"
        return None
    try:
        theirs = layer_of(target)
    except ValueError:
        return f"includes {inc}, outside src/"
    rel = target.relative_to(src).as_posix()
    if theirs == mine:
        return None
    if theirs == "core" and rel not in CORE_API:
        return f"includes the core-private header {rel} (the core's API for other layers is {', '.join(sorted(CORE_API))})"
    if RANK[theirs] >= RANK[mine]:
        return f"includes {rel}: {theirs} is not below {mine} (common <- core <- {{tunnel, stream, knock}} <- cli)"
    return None


def check_angle(f, inc):
    if inc.startswith("silosec/") and Path(inc).name not in PUBLIC:
        return f"includes <{inc}>, not a public header of include/silosec"
    return None


for f in sorted(src.rglob("*")):
    if f.suffix not in (".c", ".h") or f.relative_to(src).parts[0] not in RANK | {"lib": 1}:
        continue
    for kind, inc in INCLUDE.findall(f.read_text()):
        why = check_quoted(f, inc) if kind == '"' else check_angle(f, inc)
        if why:
            problems.append(f"{f.relative_to(root)}: {why}")

for m in sorted(src.rglob("meson.build")):
    for d in re.findall(r"include_directories\(\s*'\.\./(\w+)", m.read_text()):
        problems.append(f"{m.relative_to(root)}: include_directories('../{d}') reaches into src/{d}")

# The exported symbols against the installed headers.
declared = set()
for h in PUBLIC:
    declared |= set(re.findall(r"\b(ss_[a-z0-9_]+)\(", (root / "include/silosec" / h).read_text()))
mapped = set(re.findall(r"^\s+(ss_[a-z0-9_]+);", (src / "libsilosec.map").read_text(), re.M))
for s in sorted(declared - mapped):
    problems.append(f"src/libsilosec.map: {s} is declared in include/silosec but not exported")
for s in sorted(mapped - declared):
    problems.append(f"src/libsilosec.map: {s} is exported but not declared in include/silosec")

for p in problems:
    print(p)
print(f"{len(problems)} layering problems")
sys.exit(1 if problems else 0)
