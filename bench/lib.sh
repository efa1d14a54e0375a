# Shared by the bench scripts: sourced, not run.

die() { echo "ERROR: $*" >&2; exit 1; }

# Milliseconds since an $EPOCHREALTIME taken earlier, to one decimal.
ms_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", (b - a) * 1000 }'; }

# publish_snapshot REPO_ROOT PIPELINE_CS ROOT LOG: publishes PIPELINE_CS (relative to the repository) as a native-AOT
# binary into ROOT/bin, from a snapshot of the work tree in ROOT/build-src, so it never races a build in the tree's
# own obj/ dirs; sets `bin` to the binary.
publish_snapshot() {
  local repo_root="$1" pipeline="$2" root="$3" log="$4" snap="$3/build-src"
  rm -rf "${snap:?}" "${root:?}/bin"
  mkdir -p "$snap"
  tar -C "$repo_root" --exclude=./.git --exclude=./BenchmarkDotNet.Artifacts --exclude='*/bin' --exclude='*/obj' \
    -cf - . | tar -C "$snap" -xf -
  echo "publishing the AOT binary of $pipeline (log: $log/publish.log)"
  (cd "$snap" && dotnet publish "$pipeline" -o "$root/bin") >"$log/publish.log" 2>&1 || { tail -30 "$log/publish.log"; die "publish failed"; }
  bin="$root/bin/pipeline"
}
