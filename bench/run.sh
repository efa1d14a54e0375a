#!/usr/bin/env bash
# Runs the workspace benchmarks and prints our numbers beside coreutils' in one table.
# Needs root: it loop-mounts an XFS made with reflink=1 for the reflink and overlay benchmarks;
# the copy benchmark runs on the ext4 (or whatever) filesystem holding $HARMONT_BENCH_ROOT.
# Usage: sudo bash bench/run.sh [BenchmarkDotNet args, default --filter '*']
set -euo pipefail
cd "$(dirname "$0")/.."
root="${HARMONT_BENCH_ROOT:-/var/tmp/harmont-bench}"
mkdir -p "$root/ext4" "$root/xfs"
rm -rf "$root"/ext4/copy-*   # left by an interrupted run; the trees themselves are reused
image="$root/xfs.img"

cleanup() {
  umount "$root/xfs" 2>/dev/null || true
  rm -f "$image"
}
trap cleanup EXIT
umount "$root/xfs" 2>/dev/null || true
rm -f "$image"
truncate -s 6G "$image"
mkfs.xfs -q -m reflink=1 "$image"
mount -o loop "$image" "$root/xfs"

export HARMONT_BENCH_XFS="$root/xfs" HARMONT_BENCH_EXT4="$root/ext4"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "ext4 side: $(df -T "$root/ext4" | awk 'NR==2 {print $2 " on " $1}'); xfs side: loop image, reflink=1"
dotnet build -c Release bench/Harmont.Aot.Bench -clp:ErrorsOnly -v quiet >/dev/null
bench=(dotnet run -c Release --no-build --project bench/Harmont.Aot.Bench --)
if [ "$#" -gt 0 ]; then
  "${bench[@]}" "$@"     # e.g. --filter '*Reflink*', or --paired 9
  exit
fi
# BenchmarkDotNet's per-method tables, then the ratios side by side measured in alternating rounds
# (BenchmarkDotNet runs one method's iterations after the other's, which a shared machine's load skews).
"${bench[@]}" --filter '*'
"${bench[@]}" --paired "${HARMONT_BENCH_ROUNDS:-9}"
