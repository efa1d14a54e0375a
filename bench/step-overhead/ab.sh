#!/usr/bin/env bash
# Before/after for one change: the 10-step chain (run.sh's pipeline.cs) run cold by several published binaries in
# alternating rounds, so machine load falls on every binary alike. Prints, per binary and pipeline, the median
# wall time and the median of each HARMONT_STEP_PHASES phase per executed step.
# Usage: bash bench/step-overhead/ab.sh NAME=BINARY NAME=BINARY...  (env: HARMONT_AB_ROUNDS=7,
#        HARMONT_AB_PIPELINES="chain cached"). Each binary is `dotnet publish bench/step-overhead/pipeline.cs` of one commit.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
rounds="${HARMONT_AB_ROUNDS:-7}"
pipelines="${HARMONT_AB_PIPELINES:-chain cached}"
root="${HARMONT_OVERHEAD_BENCH_ROOT:-/var/tmp/harmont-overhead-bench}/ab"
export HARMONT_CACHE_DIR="$root/cache" LC_ALL=C
die() { echo "ERROR: $*" >&2; exit 1; }
[ "$#" -ge 2 ] || die "name at least two NAME=BINARY pairs"
names=() bins=()
for pair in "$@"; do names+=("${pair%%=*}"); bins+=("${pair#*=}"); [ -x "${pair#*=}" ] || die "no binary at ${pair#*=}"; done
rm -rf "$root"; mkdir -p "$root/logs"
repo="$root/repo"; mkdir -p "$repo"; echo bench >"$repo/README"
git -C "$repo" init -q && git -C "$repo" add -A && git -C "$repo" -c user.name=b -c user.email=b@b commit -qm b
echo "machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $rounds rounds of: ${names[*]} x $pipelines"

ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }
one() {
  local name="$1" bin="$2" pipeline="$3" t0 rc=0
  [ "$pipeline" = cached ] && { "$bin" cache clean >/dev/null 2>&1 || die "cache clean failed"; }
  t0="$EPOCHREALTIME"
  (cd "$repo" && HARMONT_STEP_PHASES="$root/logs/$name-$pipeline.phases" "$bin" run "$pipeline" --runner docker --format json >/dev/null 2>"$root/logs/last.err") || rc=$?
  [ "$rc" = 0 ] || { tail "$root/logs/last.err" >&2; die "$name $pipeline failed (exit $rc)"; }
  echo "$(ms_since "$t0")" >>"$root/logs/$name-$pipeline.wall"
}
for k in "${!names[@]}"; do for p in $pipelines; do one "${names[$k]}" "${bins[$k]}" "$p"; done; done # warm-up
rm -f "$root"/logs/*.phases "$root"/logs/*.wall
n="${#names[@]}"
for r in $(seq "$rounds"); do
  for k in $(seq 0 $((n - 1))); do
    j=$(( (k + r) % n )); [ $((r % 2)) = 0 ] && j=$(( n - 1 - j ))
    for p in $pipelines; do one "${names[$j]}" "${bins[$j]}" "$p"; done
  done
  echo "  round $r done (load $(cut -d' ' -f1 /proc/loadavg))"
done
for p in $pipelines; do
  for name in "${names[@]}"; do
    echo "== $name $p: wall median $(python3 -c 'import statistics,sys; print(f"{statistics.median(float(l) for l in open(sys.argv[1])):.0f}")' "$root/logs/$name-$p.wall") ms"
    python3 "$here/phases.py" "$root/logs/$name-$p.phases"
  done
done
