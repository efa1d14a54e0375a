#!/usr/bin/env bash
# Startup budget: the AOT pipeline binary's `list` against an AOT hello world, both net10.0 NativeAOT,
# published on this machine, each run 20 times (after 3 warm-ups) alternating; prints medians and the ratio.
# Goal: `list` within 1.5x of hello world.
# Usage: bash bench/startup/run.sh   (env: HARMONT_STARTUP_BIN=an already published pipeline binary,
#        HARMONT_STARTUP_RUNS=20, HARMONT_STARTUP_ROOT=/var/tmp/harmont-startup)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
root="${HARMONT_STARTUP_ROOT:-/var/tmp/harmont-startup}"
runs="${HARMONT_STARTUP_RUNS:-20}"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
mkdir -p "$root/hello"

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"

# The hello world is published outside the repository, so no repository build props reach it.
cp "$here/hello.cs" "$root/hello/hello.cs"
(cd "$root/hello" && dotnet publish hello.cs -o "$root/hello/out" -nologo -v quiet >/dev/null)
hello="$root/hello/out/hello"

bin="${HARMONT_STARTUP_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$repo_root" && dotnet publish pipeline.cs -o "$root/pipeline" -nologo -v quiet >/dev/null)
  bin="$root/pipeline/pipeline"
fi
echo "hello world: $(stat -c %s "$hello") bytes; pipeline: $(stat -c %s "$bin") bytes"

cd "$repo_root"
python3 - "$runs" "$hello" "$bin" <<'PY'
import statistics, subprocess, sys, time
runs, hello, pipeline = int(sys.argv[1]), sys.argv[2], sys.argv[3]
cases = {"hello": [hello], "list": [pipeline, "list"]}
def once(argv):
    t = time.perf_counter()
    p = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = (time.perf_counter() - t) * 1000
    if p.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {p.returncode}: {p.stderr.decode(errors='replace').strip()}")
    return elapsed
for argv in cases.values():
    for _ in range(3):
        once(argv)
times = {name: [] for name in cases}
for _ in range(runs):
    for name, argv in cases.items():
        times[name].append(once(argv))
med = {name: statistics.median(v) for name, v in times.items()}
for name in cases:
    print(f"{name:>6}: median {med[name]:.1f} ms over {runs} runs (min {min(times[name]):.1f}, max {max(times[name]):.1f})")
ratio = med["list"] / med["hello"]
print(f"list / hello world: {ratio:.2f}x (goal <= 1.5x) {'PASS' if ratio <= 1.5 else 'MISS'}")
PY
