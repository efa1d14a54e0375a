#!/usr/bin/env bash
# Per-step overhead: a 10-step chain of trivial steps (step N runs `echo N > fNN`), cold, against the same chain
# as a Dockerfile (one RUN per step) under BuildKit, in alternating rounds; prints medians, per-step times, ratios.
#   chain:  harmont, no step cached (the last one an uncached leaf): what a plain CI run costs;
#   chain-none, chain-host: chain with Network.None / Network.Host on every step (the default is the engine's bridge);
#   cached: harmont, every step CacheForever (so every step's image is committed and kept, as BuildKit keeps a
#           snapshot per RUN), each round from an empty cache;
#   buildkit: POST /build?version=2 through the Engine API (the CLI here has no buildx); every round's Dockerfile
#           ends each RUN with a shell comment naming the round, so no RUN hits BuildKit's cache and every one
#           executes (pruning the build cache instead would take other users' cache on a shared engine).
# Each round also writes HARMONT_STEP_PHASES lines, and the script prints the median of each phase per step.
# Needs a Docker engine, harmont-test/busybox:1 (made from the host's busybox if missing), curl, python3, git and
# the .NET SDK. Usage: bash bench/step-overhead/run.sh  (env: HARMONT_OVERHEAD_BENCH_ROUNDS=7,
# HARMONT_OVERHEAD_BENCH_BIN=an already published binary, HARMONT_OVERHEAD_BENCH_ROOT=/var/tmp/harmont-overhead-bench,
# HARMONT_OVERHEAD_BENCH_PIPELINES="chain cached chain-none chain-host", e.g. "chain cached" for a binary from
# before Network existed). Ratios are medians of the per-round ratios: each round's load falls on both sides.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
root="${HARMONT_OVERHEAD_BENCH_ROOT:-/var/tmp/harmont-overhead-bench}"
rounds="${HARMONT_OVERHEAD_BENCH_ROUNDS:-7}"
sock="${HARMONT_OVERHEAD_BENCH_DOCKER_SOCK:-/var/run/docker.sock}"
image="harmont-test/busybox:1"
tag="harmont-overhead-bench:latest"
steps=10
log="$root/logs"
export HARMONT_CACHE_DIR="$root/cache"
export LC_ALL=C
. "$here/../lib.sh"
mkdir -p "$root" "$log"
rm -f "$log"/*.phases

echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
docker info >/dev/null 2>&1 || die "no Docker engine answers (start dockerd)"
api="$(docker version --format '{{.Server.APIVersion}}')"
echo "docker: engine $(docker version --format '{{.Server.Version}}') (API $api), storage $(docker info --format '{{.Driver}}')"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  busybox="$(command -v busybox)" || die "$image is missing and there is no busybox to make it from"
  rootfs="$(mktemp -d)"
  mkdir -p "$rootfs/bin" "$rootfs/tmp" "$rootfs/workspace"
  cp "$busybox" "$rootfs/bin/busybox"
  for t in sh cat echo ls mkdir; do ln -s busybox "$rootfs/bin/$t"; done
  tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
  rm -rf "$rootfs"
fi

# --- The AOT binary, published from a snapshot of the work tree ------------------------------------------------
if [ -n "${HARMONT_OVERHEAD_BENCH_BIN:-}" ]; then
  bin="$HARMONT_OVERHEAD_BENCH_BIN"
else
  publish_snapshot "$repo_root" bench/step-overhead/pipeline.cs "$root" "$log"
fi
[ -x "$bin" ] || die "no binary at $bin"

# --- A one-file repo for harmont, and the Dockerfile twin for BuildKit ------------------------------------------------
repo="$root/repo"
if [ ! -d "$repo/.git" ]; then
  mkdir -p "$repo"
  echo "step-overhead bench" >"$repo/README"
  git -C "$repo" init -q
  git -C "$repo" add -A
  git -C "$repo" -c user.name=bench -c user.email=bench@localhost commit -qm "bench"
fi
ctx="$root/context"
mkdir -p "$ctx"
nonce="$(date +%s%N)"
# dockerfile ROUND: the chain, with a comment that makes each round's RUNs new to BuildKit's cache.
dockerfile() {
  local i
  echo "FROM $image"
  echo "WORKDIR /workspace"
  for i in $(seq "$steps"); do printf 'RUN echo %d > f%02d # %s\n' "$i" "$i" "$nonce-$1"; done
}

median() { python3 -c 'import statistics, sys; print(f"{statistics.median(float(x) for x in sys.argv[1:]):.1f}")' "$@"; }

# harmont PIPELINE OUT: one cold run; sets wall_ms.
harmont() {
  local pipeline="$1" out="$2" t0 rc=0
  [ "$pipeline" = cached ] && { "$bin" cache clean >/dev/null 2>&1 || die "cache clean failed"; }
  t0="$EPOCHREALTIME"
  (cd "$repo" && HARMONT_STEP_PHASES="$log/$pipeline.phases" "$bin" run "$pipeline" --runner docker --format json >"$out.ndjson" 2>"$out.err") || rc=$?
  wall_ms="$(ms_since "$t0")"
  [ "$rc" = 0 ] || { tail -20 "$out.err" >&2; die "harmont run $pipeline failed (exit $rc)"; }
  [ "$(grep -c "step_cache_hit" "$out.ndjson" || true)" = 0 ] || die "harmont run $pipeline was not cold: it had cache hits"
}

# buildkit OUT ROUND: one build of the round's Dockerfile from the tarred context; sets wall_ms.
buildkit() {
  local out="$1" t0 code
  dockerfile "$2" >"$ctx/Dockerfile"
  t0="$EPOCHREALTIME"
  code="$(tar -C "$ctx" -cf - . | curl -sS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @- -o "$out.jsonl" -w '%{http_code}' "http://localhost/v$api/build?version=2&t=$tag&rm=1&forcerm=1")"
  wall_ms="$(ms_since "$t0")"
  [ "$code" = 200 ] || die "BuildKit build: HTTP $code: $(head -c 600 "$out.jsonl")"
  ! grep -q '"error"' "$out.jsonl" || die "BuildKit build failed: $(grep -m1 '"error"' "$out.jsonl" | head -c 600)"
  python3 "$here/../cache-vs-buildkit/analyze.py" buildkit "$out.jsonl" | grep -q "^cached=0/" || die "BuildKit round $2 was not cold: $(python3 "$here/../cache-vs-buildkit/analyze.py" buildkit "$out.jsonl")"
}

# Warm-up, untimed: the engine's and the page cache's first touch of each.
pipelines=(${HARMONT_OVERHEAD_BENCH_PIPELINES:-chain cached chain-none chain-host})
for p in "${pipelines[@]}"; do harmont "$p" "$log/warm-$p"; done
buildkit "$log/warm-buildkit" warm
rm -f "$log"/*.phases

rm -f "$log/walls"
one() {
  local i="$1" tool="$2"
  if [ "$tool" = buildkit ]; then buildkit "$log/$i-buildkit" "$i"; else harmont "$tool" "$log/$i-$tool"; fi
  printf '  round %d %-10s %8.1f ms\n' "$i" "$tool" "$wall_ms"
  echo "$i $tool $wall_ms" >>"$log/walls"
}
echo "cold runs of the $steps-step chain, $rounds rounds, order alternating:"
order=("${pipelines[0]}" buildkit "${pipelines[@]:1}")
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then for t in "${order[@]}"; do one "$i" "$t"; done
  else for ((k = ${#order[@]} - 1; k >= 0; k--)); do one "$i" "${order[$k]}"; done; fi
done

echo
for p in "${pipelines[@]}"; do
  echo "phases per executed step, harmont $p (HARMONT_STEP_PHASES):"
  python3 "$here/phases.py" "$log/$p.phases"
done
echo
python3 - "$log/walls" "$steps" "${pipelines[@]}" <<'PY'
import statistics, sys
walls, steps, pipelines = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rounds = {}
for line in open(walls):
    i, tool, ms = line.split()
    rounds.setdefault(i, {})[tool] = float(ms)
b = statistics.median(r["buildkit"] for r in rounds.values())
for p in pipelines:
    h = statistics.median(r[p] for r in rounds.values())
    ratio = statistics.median(r[p] / r["buildkit"] for r in rounds.values())
    verdict = "PASS" if ratio <= 1.0 else "FAIL"
    print(f"harmont {p:<11} {h:7.0f} ms {h / steps:6.1f} ms/step   buildkit {b:7.0f} ms {b / steps:6.1f} ms/step   "
          f"ratio {ratio:.2f}x (median of {len(rounds)} per-round ratios; goal <= 1.0x) {verdict}")
PY
