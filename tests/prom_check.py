#!/usr/bin/env python3
"""A strict checker of the Prometheus text exposition format (0.0.4), for the metrics of
`silosec show --prometheus` and `silosec-knockd --metrics` (promtool is not a test
dependency). Refuses: bad metric or label names, bad escapes, values that are not numbers,
a second HELP or TYPE for a family, TYPE after the family's first sample, a family's
samples not contiguous, samples of a family without TYPE, a duplicate series, counters
not named *_total, negative counters, a missing final newline.

  prom_check.py FILE|-          check; print "ok: N samples in F families"
  prom_check.py --json FILE|-   check, then print the samples as a JSON list of
                                {"name", "labels", "value"}
Exit 1 with FILE:LINE: why on the first error.
"""
import json
import math
import re
import sys

NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
TYPES = {"counter", "gauge", "histogram", "summary", "untyped"}


class Bad(Exception):
    pass


def parse_labels(s, i):
    """s[i] is '{'; returns (labels, index after '}')."""
    labels = {}
    i += 1
    while True:
        if s[i:i + 1] == "}":
            return labels, i + 1
        m = LABEL.match(s, i)
        if not m:
            raise Bad("bad label name at column %d" % (i + 1))
        name = m.group(0)
        i = m.end()
        if s[i:i + 2] != '="':
            raise Bad("expected =\" after label %s" % name)
        i += 2
        val = []
        while True:
            if i >= len(s):
                raise Bad("unterminated label value")
            c = s[i]
            if c == "\\":
                e = s[i + 1:i + 2]
                if e not in ("\\", '"', "n"):
                    raise Bad("bad escape \\%s in label %s" % (e, name))
                val.append("\n" if e == "n" else e)
                i += 2
            elif c == '"':
                i += 1
                break
            elif c == "\n":
                raise Bad("newline in label value")
            else:
                val.append(c)
                i += 1
        if name in labels:
            raise Bad("label %s twice" % name)
        labels[name] = "".join(val)
        if s[i:i + 1] == ",":
            i += 1
        elif s[i:i + 1] != "}":
            raise Bad("expected , or } after label %s" % name)


def parse_value(v):
    if v in ("+Inf", "-Inf", "NaN"):
        return float(v.replace("Inf", "inf"))
    if not re.fullmatch(r"[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", v):
        raise Bad("value %r is not a number" % v)
    return float(v)


def check(text):
    if text and not text.endswith("\n"):
        raise Bad("no newline at the end")
    help_, type_, done, series, samples = {}, {}, set(), set(), []
    current = None
    for n, line in enumerate(text.split("\n")[:-1], 1):
        try:
            if line.startswith("#"):
                parts = line.split(None, 3)
                if len(parts) >= 2 and parts[1] in ("HELP", "TYPE"):
                    if len(parts) < 3 or not NAME.fullmatch(parts[2]):
                        raise Bad("bad metric name in %s" % parts[1])
                    fam = parts[2]
                    table = help_ if parts[1] == "HELP" else type_
                    if fam in table:
                        raise Bad("second %s for %s" % (parts[1], fam))
                    if fam in done or fam == current:
                        raise Bad("%s for %s after its samples" % (parts[1], fam))
                    if parts[1] == "TYPE":
                        if len(parts) != 4 or parts[3] not in TYPES:
                            raise Bad("bad type for %s" % fam)
                        table[fam] = parts[3]
                    else:
                        table[fam] = parts[3] if len(parts) == 4 else ""
                continue
            if not line.strip():
                continue
            m = NAME.match(line)
            if not m:
                raise Bad("bad metric name")
            name, i = m.group(0), m.end()
            labels = {}
            if line[i:i + 1] == "{":
                labels, i = parse_labels(line, i)
            rest = line[i:].split()
            if line[i:i + 1] != " " or len(rest) not in (1, 2):
                raise Bad("expected ' VALUE [TIMESTAMP]'")
            value = parse_value(rest[0])
            if len(rest) == 2 and not re.fullmatch(r"-?\d+", rest[1]):
                raise Bad("bad timestamp")
            if name not in type_:
                raise Bad("sample of %s without TYPE" % name)
            if name != current:
                if name in done:
                    raise Bad("samples of %s not contiguous" % name)
                if current:
                    done.add(current)
                current = name
            if type_[name] == "counter":
                if not name.endswith("_total"):
                    raise Bad("counter %s not named *_total" % name)
                if value < 0 or math.isnan(value):
                    raise Bad("counter %s negative" % name)
            key = (name, tuple(sorted(labels.items())))
            if key in series:
                raise Bad("duplicate series %s%s" % (name, labels))
            series.add(key)
            samples.append({"name": name, "labels": labels, "value": value})
        except Bad as e:
            raise Bad("line %d: %s: %s" % (n, e, line))
    return samples, len(type_)


def main():
    args = sys.argv[1:]
    as_json = bool(args) and args[0] == "--json"
    if as_json:
        args = args[1:]
    if len(args) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    path = args[0]
    text = sys.stdin.read() if path == "-" else open(path).read()
    try:
        samples, fams = check(text)
    except Bad as e:
        print("%s:%s" % (path, e), file=sys.stderr)
        return 1
    if as_json:
        json.dump(samples, sys.stdout)
        print()
    else:
        print("ok: %d samples in %d families" % (len(samples), fams))
    return 0


if __name__ == "__main__":
    sys.exit(main())
