#!/usr/bin/env bash
# Publishes loud.cs as a native-AOT pipeline and runs each of its pipelines in Docker. Every one has a
# single step that writes 1 GiB to stdout (many lines, one endless line, random bytes). Prints the
# runner's peak RSS (VmHWM) and wall time for each, and fails if a run fails or its peak RSS passes
# LIMIT_MB (default 200), i.e. if memory grows with the output rather than staying bounded.
#
# Needs: docker (engine API 1.41+), the .NET SDK, /bin/busybox (busybox-static) for the step image.
# Usage: bench/docker-logs/measure-log-memory.sh [pipeline...]   (default: lines oneline binary)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
limit_mb=${LIMIT_MB:-200}
pipelines=("$@")
[ ${#pipelines[@]} -gt 0 ] || pipelines=(lines oneline binary)

scratch=$(mktemp -d /tmp/harmont-log-bench.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# The step image the test suite also uses: busybox alone, imported from the host so no registry is needed.
if ! docker image inspect harmont-test/busybox:1 >/dev/null 2>&1; then
  echo "importing harmont-test/busybox:1 from /bin/busybox"
  mkdir -p "$scratch/rootfs/bin" "$scratch/rootfs/tmp" "$scratch/rootfs/workspace" "$scratch/rootfs/etc"
  cp /bin/busybox "$scratch/rootfs/bin/busybox"
  for applet in sh yes head tr cat echo; do ln -s busybox "$scratch/rootfs/bin/$applet"; done
  echo 'root:x:0:0:root:/root:/bin/sh' > "$scratch/rootfs/etc/passwd"
  tar -C "$scratch/rootfs" -c . | docker import - harmont-test/busybox:1 >/dev/null
fi

echo "publishing loud.cs (native AOT)"
dotnet publish "$here/loud.cs" -o "$scratch/bin" -nologo -v quiet >/dev/null
binary="$scratch/bin/loud"

# Run outside any git checkout, so the root step's workspace starts empty.
mkdir -p "$scratch/src"
status=0
printf '%-8s %5s %12s %12s %9s\n' PIPELINE EXIT PEAK_RSS LOG_LINES WALL
for pipeline in "${pipelines[@]}"; do
  start=$(date +%s.%N)
  # time -v measures the runner itself (its maximum RSS); the log is counted, never stored.
  set +e
  (cd "$scratch/src" && HARMONT_CACHE_DIR="$scratch/cache" \
    /usr/bin/time -v -o "$scratch/time" "$binary" run "$pipeline" --runner docker --logs --repo "$scratch/src" 2> "$scratch/err") \
    | tee >(tail -c 2000 > "$scratch/tail") | wc -l > "$scratch/lines"
  code=${PIPESTATUS[0]}
  set -e
  wall=$(echo "$(date +%s.%N) - $start" | bc)
  peak_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$scratch/time")
  printf '%-8s %5s %8d MiB %12d %8.1fs\n' "$pipeline" "$code" $((peak_kb / 1024)) "$(cat "$scratch/lines")" "$wall"
  if [ "$code" -ne 0 ]; then
    echo "  run failed; last output:"; tail -5 "$scratch/tail" "$scratch/err" | cut -c1-200 | sed 's/^/  /'
    status=1
  elif [ $((peak_kb / 1024)) -gt "$limit_mb" ]; then
    echo "  peak RSS above ${limit_mb} MiB: memory is not bounded"
    status=1
  fi
done

leftover=$(docker ps -aq --filter label=dev.harmont.aot=1 --filter "label=dev.harmont.aot.step=flood" | wc -l)
[ "$leftover" -eq 0 ] || { echo "containers left behind: $leftover"; status=1; }
exit $status
