#!/usr/bin/env bash
# zlib built by Harmont's AOT binary against BuildKit (the engine's, through the Engine API), in one run, as ratios:
#   chain: ./configure -> make -j2 -> make test on a Debian image with gcc; `build` is an incremental step.
#     cold (both caches empty), no-op (nothing changed), one-.c-edit (a new line in adler32.c each round).
#     Goals: cold <= 1.0x, edit <= 0.4x, no-op <= 0.3x BuildKit.
#   ccache: one step that configures and builds zlib with CC='ccache gcc', its ccache in a cache mount
#     ([CacheMount] against RUN --mount=type=cache), after a one-.c-edit, both mounts warm.
# Rounds alternate which tool goes first; medians are printed. BuildKit builds Dockerfiles this script writes
# (FROM the same image; WORKDIR /src; COPY . .; one RUN per step) via POST /build?version=2, timed from tarring
# the context, as bench/cache-vs-buildkit/run.sh does.
# zlib's source: Debian's source package (apt-get source --download-only zlib, with a deb-src line for the
# Debian mirror apt already uses, in a private apt state under the bench root); the image: bench/zlib/debian-image.sh.
# Usage: bash bench/zlib/run.sh  (env: HARMONT_ZLIB_BENCH_ROUNDS=7, HARMONT_ZLIB_BENCH_BIN=published binary,
#        HARMONT_ZLIB_BENCH_ROOT=/var/tmp/harmont-zlib-bench). Exit 1 when a measurement is invalid.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo_root="$(cd "$here/../.." && pwd)"
root="${HARMONT_ZLIB_BENCH_ROOT:-/var/tmp/harmont-zlib-bench}"
rounds="${HARMONT_ZLIB_BENCH_ROUNDS:-7}"
sock="${HARMONT_ZLIB_BENCH_DOCKER_SOCK:-/var/run/docker.sock}"
image="harmont-test/debian-gcc:12"
src="$root/zlib"
log="$root/logs"
export HARMONT_CACHE_DIR="$root/cache"
export LC_ALL=C
. "$here/../lib.sh"
mkdir -p "$root" "$log"
echo "machine: $(nproc) cores, $(uname -sr), load $(cut -d' ' -f1-3 /proc/loadavg)"
docker info >/dev/null 2>&1 || die "no Docker engine answers"
api="$(docker version --format '{{.Server.APIVersion}}')"
bash "$here/debian-image.sh"

# --- zlib's source, from Debian's source package ------------------------------------------------------------
if [ ! -f "$src/.git/HEAD" ]; then
  apt="$root/apt"
  mirror=$(grep -rhsoE '^(URIs:|deb) +https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d | head -1 | awk '{print $2}' || true)
  mkdir -p "$apt/lists/partial" "$apt/dl"
  echo "deb-src ${mirror:-http://deb.debian.org/debian} bookworm main" >"$apt/sources.list"
  opts=(-o "Dir::Etc::SourceList=$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$apt/lists")
  apt-get -qq "${opts[@]}" update
  (cd "$apt/dl" && apt-get -qq "${opts[@]}" source --download-only zlib 2>/dev/null)
  orig="$(ls "$apt"/dl/zlib_*.orig.tar.*)"
  rm -rf "$src" && mkdir -p "$src"
  tar -C "$src" --strip-components=1 -xf "$orig"
  git -C "$src" init -q && git -C "$src" add -A && git -C "$src" -c user.name=bench -c user.email=bench@localhost commit -qm "$(basename "$orig")"
  echo "zlib source: $(basename "$orig") from ${mirror:-http://deb.debian.org/debian}"
fi
git -C "$src" checkout -q -- . && git -C "$src" clean -fdq
cat >"$root/Dockerfile.chain" <<DOCKERFILE
FROM $image
WORKDIR /src
COPY . .
RUN ./configure
RUN make -j2
RUN make test
DOCKERFILE
cat >"$root/Dockerfile.ccache" <<DOCKERFILE
FROM $image
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/root/.cache/ccache,id=zlib-ccache ./configure >/dev/null && make -j2 CC='ccache gcc' >/dev/null && ccache -s | grep -E 'Hits|Misses' | tr -s ' ' | head -4
DOCKERFILE

# --- The AOT binary, published from a snapshot of the work tree ----------------------------------------------------
if [ -n "${HARMONT_ZLIB_BENCH_BIN:-}" ]; then
  bin="$HARMONT_ZLIB_BENCH_BIN"
else
  publish_snapshot "$repo_root" bench/zlib/pipeline.cs "$root" "$log"
fi

harmont() { # PIPELINE OUT [args]
  local pipeline="$1" out="$2" t0 rc=0; shift 2
  t0="$EPOCHREALTIME"
  (cd "$src" && "$bin" run "$pipeline" --runner docker --format json "$@" >"$out.ndjson" 2>"$out.err") || rc=$?
  wall_ms="$(ms_since "$t0")"
  [ "$rc" = 0 ] || { tail -20 "$out.err" >&2; die "harmont run failed (exit $rc); events in $out.ndjson"; }
}
buildkit() { # DOCKERFILE OUT
  local dockerfile="$1" out="$2" t0 code
  cp "$root/$dockerfile" "$src/.bench.Dockerfile"
  t0="$EPOCHREALTIME"
  code="$(cd "$src" && tar --exclude=./.git -cf - . | curl -sS --unix-socket "$sock" -X POST -H 'Content-Type: application/x-tar' \
    --data-binary @- -o "$out.jsonl" -w '%{http_code}' "http://localhost/v$api/build?version=2&dockerfile=.bench.Dockerfile&t=harmont-zlib-bench:latest&rm=1&forcerm=1")"
  wall_ms="$(ms_since "$t0")"
  rm -f "$src/.bench.Dockerfile"
  [ "$code" = 200 ] || die "BuildKit build: HTTP $code: $(head -c 600 "$out.jsonl")"
  ! grep -q '"error"' "$out.jsonl" || die "BuildKit build failed: $(grep -m1 '"error"' "$out.jsonl" | head -c 600)"
}
# What our run did: which steps hit, and how many files make compiled in `build` (its "-c" lines).
summary() { python3 - "$1" <<'PY'
import json, sys
hits, compiled, incremental = [], 0, False
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["event"] == "step_cache_hit": hits.append(e["step"])
    if e["event"] == "step_log" and e["step"] == "build":
        compiled += " -c " in e["line"]
        incremental |= e["line"].startswith("harmont: incremental: starting")
print(f"hits={','.join(hits) or '-'} build_compiled={compiled} incremental={'yes' if incremental else 'no'}")
PY
}
median() { printf '%s\n' "$@" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }
invalid=()
declare -A times
run_round() { # PHASE ROUND TOOL
  local phase="$1" i="$2" tool="$3" info=""
  if [ "$tool" = harmont ]; then
    [ "$phase" = cold ] && "$bin" cache clean >/dev/null 2>&1
    harmont "$([ "$phase" = ccache ] && echo ccache || echo zlib)" "$log/$phase-$i-harmont"
    info="$(summary "$log/$phase-$i-harmont.ndjson")"
    case "$phase" in
      noop) [[ "$info" == hits=configure,build,test* ]] || invalid+=("noop round $i: $info") ;;
      edit) [[ "$info" == "hits=configure build_compiled=2 incremental=yes" ]] || invalid+=("edit round $i: $info (expected configure hit, adler32.c compiled twice: static and shared)") ;;
    esac
  else
    [ "$phase" = cold ] && docker builder prune -af >/dev/null 2>&1
    buildkit "$([ "$phase" = ccache ] && echo Dockerfile.ccache || echo Dockerfile.chain)" "$log/$phase-$i-buildkit"
  fi
  times[$phase-$tool]+="$wall_ms "
  printf '  %-6s round %d %-8s %9.1f ms  %s\n' "$phase" "$i" "$tool" "$wall_ms" "$info"
}
edit() { echo "int bench_edit_$1_$2(void) { return $2; }" >>"$src/adler32.c"; }
phase() { # PHASE: alternate which tool goes first
  local p="$1" i
  for i in $(seq "$rounds"); do
    case "$p" in edit | ccache) edit "$p" "$i" ;; esac
    if [ $((i % 2)) = 1 ]; then run_round "$p" "$i" harmont; run_round "$p" "$i" buildkit
    else run_round "$p" "$i" buildkit; run_round "$p" "$i" harmont; fi
  done
}

echo "zlib $(sed -n 's/^#define ZLIB_VERSION "\(.*\)"/\1/p' "$src/zlib.h"), image $image, $rounds rounds"
phase cold
phase noop
phase edit
git -C "$src" checkout -q -- adler32.c
# Warm both ccache mounts on the unedited source, then edit a .c file each round.
harmont ccache "$log/ccache-warm-harmont"; buildkit Dockerfile.ccache "$log/ccache-warm-buildkit"
phase ccache
git -C "$src" checkout -q -- adler32.c

echo
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (t == "" ? "" : r <= t ? "PASS" : "FAIL") }'; }
for p in cold:1.0 noop:0.3 edit:0.4 ccache:; do
  name="${p%%:*}" goal="${p#*:}"
  h="$(median ${times[$name-harmont]})" b="$(median ${times[$name-buildkit]})"
  r="$(awk -v a="$h" -v b="$b" 'BEGIN { printf "%.2f", a / b }')"
  printf '%-7s harmont %8.0f ms  buildkit %8.0f ms  ratio %sx%s %s\n' "$name" "$h" "$b" "$r" "${goal:+ (goal <= ${goal}x)}" "$(verdict "$r" "$goal")"
done
if [ "${#invalid[@]}" -gt 0 ]; then
  echo "INVALID MEASUREMENTS:"; printf '  %s\n' "${invalid[@]}"; exit 1
fi
