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

# start_registry DIR LOG: Debian's docker-registry (distribution's registry) on a free loopback port, with deleting
# allowed and its storage under DIR, emptied first; sets port and registry_pid. stop_registry ends it.
start_registry() {
  local dir="$1" log="$2"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  rm -rf "${dir:?}" && mkdir -p "$dir"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$dir/storage" "$port" >"$dir/config.yml"
  /usr/bin/docker-registry serve "$dir/config.yml" >"$log" 2>&1 &
  registry_pid=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null && return 0; sleep 0.1; done
  die "the registry did not answer on 127.0.0.1:$port; see $log"
}

stop_registry() {
  if [ -n "${registry_pid:-}" ]; then
    kill "$registry_pid" 2>/dev/null || true
    wait "$registry_pid" 2>/dev/null || true
  fi
  registry_pid=""
}
