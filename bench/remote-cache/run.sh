#!/usr/bin/env bash
# A fresh machine starting from the shared cache, against the same machine from nothing and against BuildKit
# importing a registry cache of the same Dockerfile, on bench/cache-vs-buildkit's 20-step pipeline (one root,
# 19 cached leaves) over its generated 10k-file repo. Machine A is this machine's engine; each "fresh machine"
# is a new dockerd (its own data root, exec root and socket, attached to docker0 without touching it) with an
# empty cache dir and only the base image. The registry is Debian's docker-registry on a free loopback port.
#   1. A runs the pipeline cold with --cache-remote (pushes every entry and image) and BuildKit builds the
#      Dockerfile with its inline cache and pushes the image to the same registry;
#   2. each round, on fresh machines: harmont from the remote cache (mode=read), harmont from nothing, and
#      BuildKit with cachefrom= the pushed image; wall times, medians, the ratio, and the bytes harmont moved.
# Goal: harmont from the remote cache <= 1.0x BuildKit's. Needs root (dockerd), docker-registry, curl,
# python3, git and the .NET SDK. Usage: bash bench/remote-cache/run.sh  (env: HARMONT_REMOTE_BENCH_ROUNDS=3,
# HARMONT_CACHE_BENCH_BIN=an already built pipeline binary of bench/cache-vs-buildkit/pipeline.cs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
source "$here/../lib.sh"   # start_registry; this script's own die and ms_since (whole milliseconds) follow
root="${HARMONT_REMOTE_BENCH_ROOT:-/var/tmp/harmont-remote-bench}"
rounds="${HARMONT_REMOTE_BENCH_ROUNDS:-3}"
image="harmont-test/busybox:1"
gen="$root/repo"
log="$root/logs"
export LC_ALL=C
die() { echo "ERROR: $*" >&2; exit 1; }
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mkdir -p "$root" "$log"
[ "$(id -u)" = 0 ] || die "needs root, to start fresh engines"
[ -x /usr/bin/docker-registry ] || die "install docker-registry"
docker image inspect "$image" >/dev/null 2>&1 || die "$image is missing: run bench/cache-vs-buildkit/run.sh or the tests once"
api="$(docker version --format '{{.Server.APIVersion}}')"

# --- The pipeline binary and the generated repo (bench/cache-vs-buildkit's) ---------------------------------
bin="${HARMONT_CACHE_BENCH_BIN:-}"
if [ -z "$bin" ]; then
  echo "publishing the AOT binary of bench/cache-vs-buildkit/pipeline.cs (log: $log/publish.log)"
  (cd "$repo_root" && dotnet publish bench/cache-vs-buildkit/pipeline.cs -o "$root/bin") >"$log/publish.log" 2>&1 || { tail -20 "$log/publish.log"; die "publish failed"; }
  bin="$root/bin/pipeline"
fi
if [ ! -f "$gen/Dockerfile" ]; then
  mkdir -p "$gen"
  python3 "$repo_root/bench/cache-vs-buildkit/gen_repo.py" "$gen"
  git -C "$gen" init -q && git -C "$gen" add -A && git -C "$gen" -c user.name=bench -c user.email=bench@localhost commit -qm generated
fi

# --- The registry --------------------------------------------------------------------------------------------
start_registry "$root/registry" "$log/registry.log"
engines=()
cleanup() {
  for e in "${engines[@]}"; do stop_engine "$e" || true; done
  stop_registry
}
trap cleanup EXIT
remote="oci://127.0.0.1:$port/bench/harmont"
echo "registry: 127.0.0.1:$port"

# --- Fresh machines ----------------------------------------------------------------------------------------------
# start_engine N: a new dockerd under /tmp/hmb-N (a short path: socket paths are limited), with the base image.
start_engine() {
  local dir="/tmp/hmb-$1"
  rm -rf "$dir" && mkdir -p "$dir"
  dockerd --data-root "$dir/data" --exec-root "$dir/exec" --pidfile "$dir/pid" -H "unix://$dir/sock" \
    --bridge=docker0 --fixed-cidr=172.17.255.0/24 --iptables=false --ip-masq=false >"$dir/log" 2>&1 &
  engines+=("$1")
  for _ in $(seq 300); do docker -H "unix://$dir/sock" info >/dev/null 2>&1 && break; sleep 0.1; done
  docker save "$image" | docker -H "unix://$dir/sock" load -q >/dev/null
}
stop_engine() {
  local dir="/tmp/hmb-$1"
  [ -f "$dir/pid" ] && kill "$(cat "$dir/pid")" 2>/dev/null && for _ in $(seq 100); do [ -e "$dir/pid" ] || break; sleep 0.1; done
  grep -o " $dir[^ ]*" /proc/self/mountinfo | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
  rm -rf "$dir"
}

# harmont OUT SOCK CACHE [REMOTE]: one run; sets wall_ms.
harmont() {
  local out="$1" sock="$2" cache="$3" t0 rc=0
  rm -rf "$cache"
  t0="$EPOCHREALTIME"
  (cd "$gen" && DOCKER_HOST="unix://$sock" HARMONT_CACHE_DIR="$cache" HARMONT_CACHE_REMOTE="${4:-}" \
    "$bin" run bench --runner docker --format json >"$out.ndjson" 2>"$out.err") || rc=$?
  wall_ms="$(ms_since "$t0")"
  [ "$rc" = 0 ] || { tail -20 "$out.err" >&2; die "harmont run failed (exit $rc)"; }
  executed="$(grep -c '"event":"step_start"' "$out.ndjson" || true)"
}
# buildkit OUT SOCK [QUERY]: one BuildKit build through the Engine API; sets wall_ms.
buildkit() {
  local out="$1" sock="$2" t0 code
  t0="$EPOCHREALTIME"
  code="$(cd "$gen" && tar --exclude=./.git -cf - . | curl -sS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @- -o "$out.jsonl" -w '%{http_code}' "http://localhost/v$api/build?version=2&rm=1&forcerm=1${3:-}")"
  wall_ms="$(ms_since "$t0")"
  [ "$code" = 200 ] || die "BuildKit build: HTTP $code: $(head -c 600 "$out.jsonl")"
  grep -q '"errorDetail"' "$out.jsonl" && die "BuildKit build failed: $(grep -m1 errorDetail "$out.jsonl" | head -c 600)"
  return 0
}
enc() { python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1]))' "$1"; }

# --- 1. Machine A fills the registry ------------------------------------------------------------------------------
start_engine a
harmont "$log/a-harmont" "/tmp/hmb-a/sock" "$root/cache-a" "$remote"
echo "A: harmont cold with --cache-remote: $wall_ms ms, executed $executed; $(grep 'remote cache' "$log/a-harmont.err" || echo 'no remote line')"
bk="127.0.0.1:$port/bench/buildkit:latest"
buildkit "$log/a-buildkit" "/tmp/hmb-a/sock" "&t=$(enc "$bk")&buildargs=$(enc '{"BUILDKIT_INLINE_CACHE":"1"}')"
docker -H unix:///tmp/hmb-a/sock push -q "$bk" >/dev/null
echo "A: BuildKit cold with inline cache, pushed: $wall_ms ms"
stop_engine a

# --- 2. Fresh machines ------------------------------------------------------------------------------------------------
h_remote=() h_cold=() b_remote=()
for i in $(seq "$rounds"); do
  start_engine "r$i"
  harmont "$log/$i-remote" "/tmp/hmb-r$i/sock" "$root/cache-r$i" "$remote?mode=read"
  h_remote+=("$wall_ms")
  echo "  round $i harmont from the remote: $wall_ms ms, executed $executed; $(grep 'remote cache' "$log/$i-remote.err" || true)"
  stop_engine "r$i"
  start_engine "c$i"
  harmont "$log/$i-cold" "/tmp/hmb-c$i/sock" "$root/cache-c$i"
  h_cold+=("$wall_ms")
  echo "  round $i harmont from nothing:   $wall_ms ms, executed $executed"
  stop_engine "c$i"
  start_engine "b$i"
  buildkit "$log/$i-buildkit" "/tmp/hmb-b$i/sock" "&cachefrom=$(enc "[\"$bk\"]")"
  b_remote+=("$wall_ms")
  echo "  round $i BuildKit from the registry cache: $wall_ms ms"
  stop_engine "b$i"
done

hr="$(median "${h_remote[@]}")" hc="$(median "${h_cold[@]}")" br="$(median "${b_remote[@]}")"
echo
echo "fresh machine, medians of $rounds: harmont from the remote cache $hr ms, from nothing $hc ms, BuildKit from its registry cache $br ms"
awk -v h="$hr" -v c="$hc" -v b="$br" 'BEGIN { printf "ratio remote/BuildKit %.2fx (goal <= 1.0x: %s); remote/nothing %.2fx\n", h / b, (h / b <= 1.0 ? "PASS" : "FAIL"), h / c }'
echo "registry holds $(du -sh "$root/registry/storage" | cut -f1)"
