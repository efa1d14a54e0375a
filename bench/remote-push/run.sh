#!/usr/bin/env bash
# What a run waits for when it pushes to the shared cache: bench/remote-push/pipeline.cs (a root that changes the
# system of the 330 MB Debian test image, and a child that shares its image) run cold, each round against a new,
# empty registry, so the whole image goes up. Three ways, alternating:
#   before   - the binary of BASE (default 502c220, before push journalling): it waited for every push, and pushed
#              the image once per entry that names it;
#   wait     - this tree with push=wait (what CI does): it waits, the image goes up once;
#   local    - this tree with push=background (the local default): it returns when its steps are done, and a
#              detached 'cache push' finishes the upload (timed until the registry holds both entries).
# Prints the median wall time of each and the bytes each said it sent. Needs root, docker-registry, git and the SDK.
# Usage: bash bench/remote-push/run.sh   (env: HARMONT_PUSH_BENCH_ROUNDS=3, HARMONT_PUSH_BENCH_BASE=502c220)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
source "$here/../lib.sh"
root="${HARMONT_PUSH_BENCH_ROOT:-/var/tmp/harmont-push-bench}"
rounds="${HARMONT_PUSH_BENCH_ROUNDS:-3}"
base="${HARMONT_PUSH_BENCH_BASE:-502c220}"
image="harmont-test/debian-gcc:12"
log="$root/logs"
median() { printf '%s\n' "$@" | sort -n | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
mkdir -p "$root" "$log"
[ "$(id -u)" = 0 ] || die "needs root"
[ -x /usr/bin/docker-registry ] || die "install docker-registry"
docker image inspect "$image" >/dev/null 2>&1 || die "$image is missing: run bench/zlib/debian-image.sh"

# The two binaries: this tree's, and BASE's (its src/ with this bench's pipeline).
publish_snapshot "$repo_root" bench/remote-push/pipeline.cs "$root/now" "$log"
now_bin="$bin"
rm -rf "$root/base-src" && mkdir -p "$root/base-src"
git -C "$repo_root" archive "$base" | tar -C "$root/base-src" -xf -
mkdir -p "$root/base-src/bench/remote-push" && cp "$here/pipeline.cs" "$root/base-src/bench/remote-push/"
publish_snapshot "$root/base-src" bench/remote-push/pipeline.cs "$root/base" "$log"
base_bin="$bin"

# Each cache dir's images go with its entries; no other image on the engine is touched.
clean_caches() {
  for kind in before wait local; do
    [ -d "$root/cache-$kind" ] && HARMONT_CACHE_DIR="$root/cache-$kind" "$now_bin" cache clean >/dev/null 2>&1 || true
  done
}
trap 'stop_registry; clean_caches' EXIT
entries() { curl -fs "http://127.0.0.1:$port/v2/bench/push/tags/list" | python3 -c 'import json,sys,re; print(sum(1 for t in (json.load(sys.stdin).get("tags") or []) if re.fullmatch("[0-9a-f]{64}", t)))' 2>/dev/null || echo 0; }

mkdir -p "$root/repo" && [ -d "$root/repo/.git" ] || { git -C "$root/repo" init -q; echo bench >"$root/repo/README"; git -C "$root/repo" add -A; git -C "$root/repo" -c user.name=b -c user.email=b@l commit -qm init; }

# one KIND ROUND: a cold run against a fresh registry and cache dir; sets wall_ms, done_ms (until both entries are
# in the registry) and sent.
one() {
  local kind="$1" round="$2" binary="$now_bin" push="wait" ci=true cache="$root/cache-$1"
  [ "$kind" = before ] && binary="$base_bin"
  [ "$kind" = local ] && { push=background; ci=""; }
  stop_registry
  start_registry "$root/registry" "$log/registry.log"   # a new, empty registry: every round uploads the whole image
  [ -d "$cache" ] && HARMONT_CACHE_DIR="$cache" "$now_bin" cache clean >/dev/null 2>&1 || true
  rm -rf "$cache"
  local remote="oci://127.0.0.1:$port/bench/push"
  [ "$kind" = before ] || remote="$remote?push=$push"
  local start="$EPOCHREALTIME"
  (cd "$root/repo" && CI="$ci" ROUND="$kind-$round-$RANDOM" HARMONT_CACHE_DIR="$cache" HARMONT_CACHE_REMOTE="$remote" "$binary" push) >"$log/$kind-$round.log" 2>&1 \
    || { tail -20 "$log/$kind-$round.log"; die "$kind round $round failed"; }
  wall_ms="$(ms_since "$start")"
  ! grep -q "warning: remote cache" "$log/$kind-$round.log" || { tail -3 "$log/$kind-$round.log"; die "$kind round $round: a push failed"; }
  for _ in $(seq 6000); do [ "$(entries)" -ge 2 ] && break; sleep 0.1; done
  done_ms="$(ms_since "$start")"
  sent="$(grep -o 'pushed ([^)]*)' "$log/$kind-$round.log" | head -1)"
  [ "$kind" = local ] && sent="$(grep -o 'pushed ([^)]*)' "$cache/remote/push.log" 2>/dev/null | tail -1) by the uploader"
  printf '  %-7s round %s: run %8.0f ms, entries in the registry after %8.0f ms, %s\n' "$kind" "$round" "$wall_ms" "$done_ms" "$sent"
}

declare -A walls dones
for round in $(seq 1 "$rounds"); do
  order=(before wait local)
  [ $((round % 2)) = 0 ] && order=(local wait before)
  for kind in "${order[@]}"; do
    one "$kind" "$round"
    walls[$kind]+="$wall_ms "
    dones[$kind]+="$done_ms "
  done
done

echo
printf '%-8s %14s %30s\n' "" "run (median)" "entries pushed (median)"
for kind in before wait local; do
  # shellcheck disable=SC2086
  printf '%-8s %11.0f ms %27.0f ms\n' "$kind" "$(median ${walls[$kind]})" "$(median ${dones[$kind]})"
done
