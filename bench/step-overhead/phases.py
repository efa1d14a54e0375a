#!/usr/bin/env python3
"""Medians of HARMONT_STEP_PHASES lines (run<TAB>step<TAB>phase=ms ... total=ms), python3 standard library only.

  phases.py FILE   one row per phase, in the order the phases first appear: the median over every step line in
                   FILE of that phase's ms (a phase a step did not have counts as 0), then the median total.
"""
import statistics
import sys


def main(path):
    rows, order = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 3:
                continue
            row = {}
            for pair in parts[2].split():
                name, _, ms = pair.partition("=")
                row[name] = row.get(name, 0.0) + float(ms)
                if name not in order:
                    order.append(name)
            rows.append(row)
    if not rows:
        sys.exit(f"no phase lines in {path}")
    print(f"  {'phase':<12} {'median ms':>10}   (over {len(rows)} executed steps)")
    for name in order:
        print(f"  {name:<12} {statistics.median(r.get(name, 0.0) for r in rows):>10.1f}")


if __name__ == "__main__":
    main(sys.argv[1])
