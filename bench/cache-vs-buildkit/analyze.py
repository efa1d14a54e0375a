#!/usr/bin/env python3
"""Helpers for run.sh (python3 standard library only).

  analyze.py buildkit STREAM [--leaf pkgNN]  BuildKit's JSON stream from POST /build?version=2: exits 1 on an
      error in it; prints `cached=<c>/<n> uncached_runs=<stages> leaf_ms=<ms>` over the Dockerfile-step
      vertices ("[stage i/n] ...", FROM excluded), leaf_ms being stage pkgNN's RUN vertex, started -> completed,
      and context_copy_ms the uncached "copy /context /" vertex (0 when cached).
  analyze.py harmont EVENTS [--leaf pkgNN]   our NDJSON events: exits 1 on a failed run or a missing
      build_end; prints `steps=<n> hits=<n> executed=<n> executed_steps=<a,b> leaf_ms=<ms>`, leaf_ms being
      the leaf's step_end duration_ms.
  analyze.py median X...                     the median of the numbers.
  analyze.py vertices STREAM                 every vertex: cached, duration, name (for debugging).

The aux of a {"id":"moby.buildkit.trace"} line is a base64 moby/buildkit control.StatusResponse:
StatusResponse{repeated Vertex vertexes = 1; ...}, Vertex{string digest = 1; repeated string inputs = 2;
string name = 3; bool cached = 4; Timestamp started = 5; Timestamp completed = 6; string error = 7},
Timestamp{int64 seconds = 1; int32 nanos = 2}. A vertex is reported many times; later reports win.
"""
import base64
import json
import re
import statistics
import sys


def varint(buf, i):
    shift = result = 0
    while True:
        b = buf[i]
        i += 1
        result |= (b & 0x7F) << shift
        if b < 0x80:
            return result, i
        shift += 7


def fields(buf):
    i = 0
    while i < len(buf):
        tag, i = varint(buf, i)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            val, i = varint(buf, i)
        elif wire == 1:
            val, i = buf[i:i + 8], i + 8
        elif wire == 2:
            n, i = varint(buf, i)
            val, i = buf[i:i + n], i + n
        elif wire == 5:
            val, i = buf[i:i + 4], i + 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")
        yield num, val


def timestamp(buf):
    sec = nanos = 0
    for num, val in fields(buf):
        if num == 1:
            sec = val
        elif num == 2:
            nanos = val
    return sec + nanos / 1e9


def vertices(path):
    """digest -> {name, cached, started, completed, error}, and the stream's error messages."""
    out, errors = {}, []
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if not line:
                continue
            try:
                msg = json.loads(line)
            except json.JSONDecodeError:
                errors.append(f"not JSON: {line[:300]}")
                continue
            if "error" in msg or "errorDetail" in msg:
                errors.append(msg.get("error") or json.dumps(msg.get("errorDetail")))
            if msg.get("id") != "moby.buildkit.trace":
                continue
            for num, val in fields(base64.b64decode(msg["aux"])):
                if num != 1:
                    continue
                v = {}
                for vnum, vval in fields(val):
                    if vnum == 1:
                        v["digest"] = vval.decode()
                    elif vnum == 3:
                        v["name"] = vval.decode()
                    elif vnum == 4:
                        v["cached"] = bool(vval)
                    elif vnum == 5:
                        v["started"] = timestamp(vval)
                    elif vnum == 6:
                        v["completed"] = timestamp(vval)
                    elif vnum == 7:
                        v["error"] = vval.decode()
                cur = out.setdefault(v.get("digest", ""), {"cached": False})
                cur.update(v)
                if v.get("error"):
                    errors.append(f"{cur.get('name')}: {v['error']}")
    return out, errors


# "[base 2/2] RUN ...", "[final  7/19] COPY ...", or "[1/3] RUN ..." for a Dockerfile without stage names.
STEP = re.compile(r"^\[(?:(\S+) +)?\d+/\d+\] (\S+)")


def buildkit(path, leaf):
    vs, errors = vertices(path)
    if errors:
        sys.exit("BuildKit reported an error: " + " | ".join(errors))
    if not vs:
        sys.exit(f"no BuildKit trace in {path}: did the daemon use the classic builder (version=2 ignored)?")
    # "[stage i/n] FROM ..." resolves the base image; BuildKit never marks it cached, and it is no step's work.
    steps = [(STEP.match(v.get("name", "")), v) for v in vs.values()]
    steps = [(m.group(1) or "?", m.group(2), v) for m, v in steps if m and m.group(2) != "FROM"]
    for _, _, v in steps:
        if "completed" not in v:
            sys.exit(f"BuildKit vertex never completed: {v.get('name')}")
    cached = sum(1 for _, _, v in steps if v["cached"])
    uncached = ",".join(sorted(stage for stage, op, v in steps if not v["cached"] and op == "RUN"))
    leaf_ms = ""
    if leaf:
        runs = [v for stage, op, v in steps if stage == leaf and op == "RUN"]
        if len(runs) != 1:
            sys.exit(f"expected one RUN vertex in stage {leaf}, found {len(runs)}")
        if runs[0]["cached"]:
            sys.exit(f"the RUN of stage {leaf} was cached: the edit did not invalidate it")
        leaf_ms = f"{(runs[0]['completed'] - runs[0]['started']) * 1000:.1f}"
    # The Engine API path (no client session) uploads the whole context as a tar and BuildKit copies it into
    # a snapshot ("copy /context /"): the CLI with buildx syncs only changed files instead. Reported apart.
    ctx = [v for v in vs.values() if v.get("name") == "copy /context /" and not v["cached"] and "started" in v]
    ctx_ms = f"{sum(v['completed'] - v['started'] for v in ctx) * 1000:.1f}"
    print(f"cached={cached}/{len(steps)} uncached_runs={uncached or '-'} leaf_ms={leaf_ms} context_copy_ms={ctx_ms}")


def harmont(path, leaf):
    events = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if line:
                try:
                    events.append(json.loads(line))
                except json.JSONDecodeError:
                    sys.exit(f"{path}:{n}: not JSON (--format json must print nothing else): {line[:200]}")

    def kinds(*names):
        return [e for e in events if e.get("event") in names]

    start = kinds("build_start", "build_started")
    end = kinds("build_end", "build_finished")
    if not start or not end:
        sys.exit(f"{path}: no build_start or no build_end event")
    if end[-1].get("exit_code") != 0:
        fails = "; ".join(f"{e.get('step')}: {e.get('message')}" for e in kinds("failure"))
        sys.exit(f"the run failed (exit {end[-1].get('exit_code')}): {fails}")
    steps = start[0].get("steps") or []
    hits = {e["step"] for e in kinds("step_cache_hit")}
    started = {e["step"] for e in kinds("step_start", "step_started")}
    executed = sorted(started - hits)
    leaf_ms = ""
    if leaf:
        ends = [e for e in kinds("step_end", "step_finished") if e.get("step") == leaf]
        if len(ends) != 1 or ends[0].get("status") != "passed" or leaf in hits:
            sys.exit(f"expected {leaf} to run and pass once, got {ends} (cache hit: {leaf in hits})")
        leaf_ms = str(ends[0].get("duration_ms"))
    print(f"steps={len(steps)} hits={len(hits)} executed={len(executed)} "
          f"executed_steps={','.join(executed) or '-'} leaf_ms={leaf_ms}")


def main():
    args = sys.argv[1:]
    leaf = ""
    if "--leaf" in args:
        i = args.index("--leaf")
        leaf = args[i + 1]
        del args[i:i + 2]
    cmd, rest = args[0], args[1:]
    if cmd == "buildkit":
        buildkit(rest[0], leaf)
    elif cmd == "harmont":
        harmont(rest[0], leaf)
    elif cmd == "median":
        print(f"{statistics.median(float(x) for x in rest):.6f}")
    elif cmd == "vertices":
        vs, errors = vertices(rest[0])
        for v in sorted(vs.values(), key=lambda v: v.get("started", 0)):
            dur = (v["completed"] - v["started"]) * 1000 if "completed" in v and "started" in v else float("nan")
            print(f"{'CACHED' if v['cached'] else '      '} {dur:9.1f} ms  {v.get('name')}")
        for e in errors:
            print("ERROR", e)
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main()
