#!/usr/bin/env bash
# Harmont's cache against BuildKit's on the same machine, in one run, as ratios:
#   1. fully cached re-run of a 20-step pipeline over a 10k-file repo: harmont wall <= 0.5x BuildKit wall;
#   2. re-run after a one-file edit that invalidates one leaf: harmont overhead <= 1.0x BuildKit overhead,
#      overhead = wall time minus the leaf's own step time (ours: its step_end duration_ms; BuildKit's: its
#      RUN vertex, started -> completed), and our run must execute exactly that one step.
# Harmont runs the native-AOT build of pipeline.cs; BuildKit builds the equivalent multi-stage Dockerfile
# through the Engine API (POST /build?version=2: the CLI here has no buildx), timed from tarring the context.
# Needs a Docker engine, the image harmont-test/busybox:1 (made from the host's busybox if missing), curl,
# python3, git and the .NET SDK. Generated data lives in $HARMONT_CACHE_BENCH_ROOT (/var/tmp/harmont-cache-bench).
# Usage: bash bench/cache-vs-buildkit/run.sh   (env: HARMONT_CACHE_BENCH_ROUNDS=7, HARMONT_CACHE_BENCH_BIN=path
#        to an already published binary, to skip the publish). Exit 0 whether the targets pass or fail; exit 1
#        when a measurement is invalid (a failed build, BuildKit not fully cached, or our edit re-run not
#        running exactly the one leaf).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
root="${HARMONT_CACHE_BENCH_ROOT:-/var/tmp/harmont-cache-bench}"
rounds="${HARMONT_CACHE_BENCH_ROUNDS:-7}"
sock="${HARMONT_CACHE_BENCH_DOCKER_SOCK:-/var/run/docker.sock}"
image="harmont-test/busybox:1"
tag="harmont-cache-bench:latest"
leaf="pkg07"
edited="src/pkg07/f0000.txt"
gen="$root/repo"
log="$root/logs"
analyze=(python3 "$here/analyze.py")
export HARMONT_CACHE_DIR="$root/cache"
export LC_ALL=C

. "$here/../lib.sh"
mkdir -p "$root" "$log"

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"

# --- Docker engine and the test image -------------------------------------------------------------------
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] || die "no Docker engine answers (start dockerd)"
  echo "starting dockerd (log: /tmp/dockerd.log)"
  nohup dockerd >/tmp/dockerd.log 2>&1 &
  for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not come up; see /tmp/dockerd.log"
fi
api="$(docker version --format '{{.Server.APIVersion}}')"
echo "docker: engine $(docker version --format '{{.Server.Version}}') (API $api), storage $(docker info --format '{{.Driver}}')"
if ! docker image inspect "$image" >/dev/null 2>&1; then
  busybox="$(command -v busybox)" || die "$image is missing and there is no busybox to make it from"
  rootfs="$(mktemp -d)"
  mkdir -p "$rootfs/bin" "$rootfs/tmp"
  cp "$busybox" "$rootfs/bin/busybox"
  for t in sh cat echo ls mkdir wc sha256sum find sleep touch rm cp; do ln -s busybox "$rootfs/bin/$t"; done
  tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
  rm -rf "$rootfs"
  echo "made $image from $busybox"
fi

# --- The AOT binary ----------------------------------------------------------------------------------------
# Published from a snapshot of the work tree, so it never races a build in the tree's own obj/ dirs.
if [ -n "${HARMONT_CACHE_BENCH_BIN:-}" ]; then
  bin="$HARMONT_CACHE_BENCH_BIN"
else
  publish_snapshot "$repo_root" bench/cache-vs-buildkit/pipeline.cs "$root" "$log"
fi
[ -x "$bin" ] || die "no binary at $bin"

# --- The generated 10k-file repo ------------------------------------------------------------------------------
stamp="$(sha256sum "$here/gen_repo.py" | cut -c1-16)"
if [ "$(cat "$gen/.bench-stamp" 2>/dev/null || true)" != "$stamp" ]; then
  echo "generating the 10k-file repo in $gen"
  rm -rf "$gen"
  mkdir -p "$gen"
  python3 "$here/gen_repo.py" "$gen"
  git -C "$gen" init -q
  echo ".bench-stamp" >>"$gen/.git/info/exclude"
  git -C "$gen" add -A
  git -C "$gen" -c user.name=bench -c user.email=bench@localhost commit -qm "generated"
  echo "$stamp" >"$gen/.bench-stamp"
fi
git -C "$gen" checkout -q -- . # an interrupted run may have left the edit behind
git -C "$gen" clean -fdq
echo "repo: $(git -C "$gen" ls-files | wc -l) files, $(du -sh --exclude=.git "$gen" | cut -f1); rounds: $rounds (median)"

# --- One timed run of each tool ---------------------------------------------------------------------------------

# harmont OUT: runs the pipeline; sets wall_ms; OUT.ndjson holds the events, OUT.err the notices.
harmont() {
  local out="$1" t0 rc=0
  t0="$EPOCHREALTIME"
  (cd "$gen" && "$bin" run bench --runner docker --format json >"$out.ndjson" 2>"$out.err") || rc=$?
  wall_ms="$(ms_since "$t0")"
  [ "$rc" = 0 ] || { tail -20 "$out.err" >&2; die "harmont run failed (exit $rc); events in $out.ndjson"; }
}

# buildkit OUT: tars the context (as the CLI must: .git is in .dockerignore) and posts it; sets wall_ms.
buildkit() {
  local out="$1" t0 code
  t0="$EPOCHREALTIME"
  code="$(cd "$gen" && tar --exclude=./.git -cf - . | curl -sS --unix-socket "$sock" -X POST \
    -H 'Content-Type: application/x-tar' --data-binary @- -o "$out.jsonl" -w '%{http_code}' \
    "http://localhost/v$api/build?version=2&t=$tag&rm=1&forcerm=1")"
  wall_ms="$(ms_since "$t0")"
  [ "$code" = 200 ] || die "BuildKit build: HTTP $code: $(head -c 600 "$out.jsonl")"
}

field() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p"; }
median() { "${analyze[@]}" median "$@"; }
invalid=()

# --- Warm-up: one build each (cold the first time this machine runs the bench) ------------------------------------
harmont "$log/warm-harmont"
echo "warm-up: harmont $(awk -v m="$wall_ms" 'BEGIN { printf "%.2f", m / 1000 }') s ($("${analyze[@]}" harmont "$log/warm-harmont.ndjson"))"
buildkit "$log/warm-buildkit"
echo "warm-up: buildkit $(awk -v m="$wall_ms" 'BEGIN { printf "%.2f", m / 1000 }') s ($("${analyze[@]}" buildkit "$log/warm-buildkit.jsonl"))"

# --- 1. Fully cached re-runs, alternating which tool goes first ---------------------------------------------------
h_cached=() b_cached=() h_ran=()
one_cached() {
  local i="$1" tool="$2" info
  if [ "$tool" = harmont ]; then
    harmont "$log/cached-$i-harmont"
    info="$("${analyze[@]}" harmont "$log/cached-$i-harmont.ndjson")" || die "round $i: bad harmont events"
    h_cached+=("$wall_ms")
    h_ran+=("$(field "$info" executed)")
  else
    buildkit "$log/cached-$i-buildkit"
    info="$("${analyze[@]}" buildkit "$log/cached-$i-buildkit.jsonl")" || die "round $i: bad BuildKit stream"
    b_cached+=("$wall_ms")
    [ "$(field "$info" uncached_runs)" = "-" ] || invalid+=("fully cached round $i: BuildKit re-ran $(field "$info" uncached_runs)")
  fi
  printf '  round %d %-8s %8.1f ms  %s\n' "$i" "$tool" "$wall_ms" "$info"
}
echo "1. fully cached re-runs:"
for i in $(seq "$rounds"); do
  if [ $((i % 2)) = 1 ]; then one_cached "$i" harmont; one_cached "$i" buildkit
  else one_cached "$i" buildkit; one_cached "$i" harmont; fi
done
h1="$(median "${h_cached[@]}")"
b1="$(median "${b_cached[@]}")"
ran1="$(median "${h_ran[@]}")"

# --- 2. One-file edit in src/pkg07, new content each round; both tools see the same edit ---------------------------
h_over=() b_over=() b_over_noctx=() h_leaf=() b_leaf=() h_wall=()
one_edit() {
  local i="$1" tool="$2" info leaf_ms
  if [ "$tool" = harmont ]; then
    harmont "$log/edit-$i-harmont"
    info="$("${analyze[@]}" harmont "$log/edit-$i-harmont.ndjson" --leaf "$leaf")" || die "round $i: bad harmont events"
    leaf_ms="$(field "$info" leaf_ms)"
    h_leaf+=("$leaf_ms")
    h_wall+=("$wall_ms")
    h_over+=("$(awk -v w="$wall_ms" -v l="$leaf_ms" 'BEGIN { printf "%.1f", w - l }')")
    if [ "$(field "$info" executed)" != 1 ] || [ "$(field "$info" executed_steps)" != "$leaf" ]; then
      echo "  !!! round $i: harmont executed $(field "$info" executed) steps ($(field "$info" executed_steps)), expected exactly 1 ($leaf)" >&2
      invalid+=("edit round $i: harmont executed $(field "$info" executed) steps, expected exactly 1 ($leaf)")
    fi
  else
    buildkit "$log/edit-$i-buildkit"
    info="$("${analyze[@]}" buildkit "$log/edit-$i-buildkit.jsonl" --leaf "$leaf")" || die "round $i: bad BuildKit stream"
    leaf_ms="$(field "$info" leaf_ms)"
    b_leaf+=("$leaf_ms")
    b_over+=("$(awk -v w="$wall_ms" -v l="$leaf_ms" 'BEGIN { printf "%.1f", w - l }')")
    b_over_noctx+=("$(awk -v w="$wall_ms" -v l="$leaf_ms" -v c="$(field "$info" context_copy_ms)" 'BEGIN { printf "%.1f", w - l - c }')")
    [ "$(field "$info" uncached_runs)" = "$leaf" ] || invalid+=("edit round $i: BuildKit ran $(field "$info" uncached_runs), expected $leaf")
  fi
  printf '  round %d %-8s %8.1f ms  %s\n' "$i" "$tool" "$wall_ms" "$info"
}
echo "2. re-runs after a one-file edit ($edited):"
nonce="$(date +%s%N)"
for i in $(seq "$rounds"); do
  echo "edited by bench/cache-vs-buildkit/run.sh: run $nonce round $i" >"$gen/$edited"
  if [ $((i % 2)) = 1 ]; then one_edit "$i" harmont; one_edit "$i" buildkit
  else one_edit "$i" buildkit; one_edit "$i" harmont; fi
done
git -C "$gen" checkout -q -- "$edited"
h2="$(median "${h_over[@]}")"
b2="$(median "${b_over[@]}")"
b2n="$(median "${b_over_noctx[@]}")"

# --- Verdict --------------------------------------------------------------------------------------------------
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r <= t ? "PASS" : "FAIL") }'; }
r1="$(awk -v a="$h1" -v b="$b1" 'BEGIN { printf "%.2f", a / b }')"
r2="$(awk -v a="$h2" -v b="$b2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 999) }')"
echo
if [ "$(awk -v r="$ran1" 'BEGIN { print (r > 0) }')" = 1 ]; then
  echo "note: harmont's \"fully cached\" re-runs executed a median of ${ran1%.*} of 20 steps (no cache hits yet?)"
fi
echo "edit: leaf $leaf's own time: harmont $(median "${h_leaf[@]}" | awk '{ printf "%.0f", $1 }') ms (step_end duration_ms), buildkit $(median "${b_leaf[@]}" | awk '{ printf "%.0f", $1 }') ms (RUN vertex)"
if [ "${#invalid[@]}" -gt 0 ]; then
  echo "INVALID MEASUREMENTS:"
  printf '  %s\n' "${invalid[@]}"
fi
awk -v h="$h1" -v b="$b1" -v n="$rounds" -v r="$r1" -v v="$(verdict "$r1" 0.5)" \
  'BEGIN { printf "fully cached: harmont %.3f s (median of %d), buildkit %.3f s (median of %d): ratio %.2fx (target <= 0.5x) %s\n", h / 1000, n, b / 1000, n, r, v }'
v2="$(verdict "$r2" 1.0)"
[ "${#invalid[@]}" = 0 ] || v2="FAIL (invalid: see above)"
awk -v h="$h2" -v b="$b2" -v n="$rounds" -v r="$r2" -v v="$v2" \
  'BEGIN { printf "one-file edit overhead: harmont %.0f ms, buildkit %.0f ms (medians of %d): ratio %.2fx (target <= 1.0x) %s\n", h, b, n, r, v }'
r2n="$(awk -v a="$h2" -v b="$b2n" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 999) }')"
echo "one-file edit overhead, conservative (buildkit without its context copy, $(awk -v m="$b2n" 'BEGIN { printf "%.0f", m }') ms): ratio ${r2n}x (target <= 1.0x) $(verdict "$r2n" 1.0)"
# Strictest: harmont's whole edit run, less only BuildKit's own RUN time for the leaf (so our workspace,
# commit and record count as overhead), against BuildKit's overhead without its context copy.
h2s="$(awk -v w="$(median "${h_wall[@]}")" -v l="$(median "${b_leaf[@]}")" 'BEGIN { printf "%.1f", w - l }')"
r2s="$(awk -v a="$h2s" -v b="$b2n" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 999) }')"
echo "one-file edit overhead, strictest (harmont's wall less buildkit's leaf time, $(awk -v m="$h2s" 'BEGIN { printf "%.0f", m }') ms, vs buildkit without its context copy): ratio ${r2s}x (target <= 1.0x) $(verdict "$r2s" 1.0)"
[ "${#invalid[@]}" = 0 ] || exit 1
