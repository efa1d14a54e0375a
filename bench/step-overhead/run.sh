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
# HARMONT_OVERHEAD_BENCH_BIN=an already published binary, HARMONT_OVERHEAD_BENCH_ROOT=/var/tmp/harmont-overhead-bench).
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
die() { echo "ERROR: $*" >&2; exit 1; }
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
  snap="$root/build-src"
  rm -rf "${snap:?}" "${root:?}/bin"
  mkdir -p "$snap"
  tar -C "$repo_root" --exclude=./.git --exclude=./BenchmarkDotNet.Artifacts --exclude='*/bin' --exclude='*/obj' \
    -cf - . | tar -C "$snap" -xf -
  echo "publishing the AOT binary of bench/step-overhead/pipeline.cs (log: $log/publish.log)"
  (cd "$snap" && dotnet publish bench/step-overhead/pipeline.cs -o "$root/bin") >"$log/publish.log" 2>&1 || { tail -30 "$log/publish.log"; die "publish failed"; }
  bin="$root/bin/pipeline"
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

ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
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
harmont chain "$log/warm-chain"; harmont cached "$log/warm-cached"; harmont chain-none "$log/warm-none"; harmont chain-host "$log/warm-host"
buildkit "$log/warm-buildkit" warm
rm -f "$log"/*.phases

h_chain=() h_cached=() h_none=() h_host=() b=()
one() {
  local i="$1" tool="$2"
  case "$tool" in
    chain) harmont chain "$log/$i-chain"; h_chain+=("$wall_ms") ;;
    cached) harmont cached "$log/$i-cached"; h_cached+=("$wall_ms") ;;
    chain-none) harmont chain-none "$log/$i-none"; h_none+=("$wall_ms") ;;
    chain-host) harmont chain-host "$log/$i-host"; h_host+=("$wall_ms") ;;
    buildkit) buildkit "$log/$i-buildkit" "$i"; b+=("$wall_ms") ;;
  esac
  printf '  round %d %-8s %8.1f ms\n' "$i" "$tool" "$wall_ms"
}
echo "cold runs of the $steps-step chain, $rounds rounds, order alternating:"
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then one "$i" chain; one "$i" buildkit; one "$i" cached; one "$i" chain-none; one "$i" chain-host
  else one "$i" chain-host; one "$i" chain-none; one "$i" cached; one "$i" buildkit; one "$i" chain; fi
done

mc="$(median "${h_chain[@]}")"; mk="$(median "${h_cached[@]}")"; mn="$(median "${h_none[@]}")"; mh="$(median "${h_host[@]}")"; mb="$(median "${b[@]}")"
echo
echo "phases per executed step, harmont chain (HARMONT_STEP_PHASES):"
python3 "$here/phases.py" "$log/chain.phases"
for p in cached chain-none chain-host; do
  echo "phases per executed step, harmont $p:"
  python3 "$here/phases.py" "$log/$p.phases"
done
echo
report() {
  awk -v name="$1" -v h="$2" -v b="$mb" -v n="$steps" 'BEGIN {
    r = h / b
    printf "%-28s %8.0f ms  %6.1f ms/step   buildkit %8.0f ms  %6.1f ms/step   ratio %.2fx (goal <= 1.0x) %s\n",
      name, h, h / n, b, b / n, r, (r <= 1.0 ? "PASS" : "FAIL") }'
}
report "harmont chain (uncached)" "$mc"
report "harmont cached (cold)" "$mk"
report "harmont chain, Network.None" "$mn"
report "harmont chain, Network.Host" "$mh"
