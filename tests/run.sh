#!/usr/bin/env bash
# Runs the whole test suite: build (warnings are errors), every test project, the AOT binary check, and a new
# user's repository built from the packed NuGet package (tests/fresh-repo.sh).
# As root it first installs what the tests need (Docker engine, fuse-overlayfs, xfsprogs, busybox-static, tmux,
# bubblewrap, cmake with a C compiler for the host backend's stable-path tests, PyYAML for the CI example, and
# docker-registry with apache2-utils' htpasswd for the shared cache's registry tests)
# and starts dockerd when no engine answers. Tests that need a capability fail, never skip, without it.
set -uo pipefail
cd "$(dirname "$0")/.."
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

log() { printf '\n== %s\n' "$*"; }

install_prerequisites() {
  local missing=()
  command -v dockerd >/dev/null || missing+=(docker.io)
  command -v fuse-overlayfs >/dev/null || missing+=(fuse-overlayfs)
  command -v mkfs.xfs >/dev/null || missing+=(xfsprogs)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  command -v git >/dev/null || missing+=(git)
  command -v curl >/dev/null || missing+=(curl)
  command -v tmux >/dev/null || missing+=(tmux)
  command -v bwrap >/dev/null || missing+=(bubblewrap)
  command -v cmake >/dev/null || missing+=(cmake)
  command -v cc >/dev/null || missing+=(gcc)
  command -v make >/dev/null || missing+=(make)
  python3 -c 'import yaml' 2>/dev/null || missing+=(python3-yaml)   # reads docs/ci/github-actions.yml in a test
  [ -x /usr/bin/docker-registry ] || missing+=(docker-registry)   # the shared-cache tests' real registry
  command -v htpasswd >/dev/null || missing+=(apache2-utils)       # its bcrypt password file
  command -v debootstrap >/dev/null || missing+=(debootstrap)       # the Debian image with gcc and make (incremental make tests)
  if [ ${#missing[@]} -gt 0 ]; then
    log "installing ${missing[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

start_dockerd() {
  docker info >/dev/null 2>&1 && return 0
  log "starting dockerd (log: /tmp/harmont-dockerd.log)"
  nohup dockerd >/tmp/harmont-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do
    docker info >/dev/null 2>&1 && return 0
    sleep 1
  done
  echo "dockerd did not answer within 60 s; see /tmp/harmont-dockerd.log" >&2
  tail -n 20 /tmp/harmont-dockerd.log >&2 || true
  return 1
}

# The shared-cache tests' registry: Debian's docker-registry on a free loopback port, for the whole suite. Tests
# that stop, reconfigure (basic auth) or damage a registry start their own beside it.
start_registry() {
  [ -x /usr/bin/docker-registry ] || return 0   # the registry tests then fail and say what to install
  local dir port
  dir="$(mktemp -d /tmp/harmont-registry-suite-XXXXXX)"
  port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s/storage\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:%s\n' \
    "$dir" "$port" >"$dir/config.yml"
  /usr/bin/docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
  registry_pid=$!
  registry_dir="$dir"
  trap 'kill "$registry_pid" 2>/dev/null; wait "$registry_pid" 2>/dev/null; rm -rf "$registry_dir"' EXIT
  for _ in $(seq 1 100); do
    if curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1; then
      export HARMONT_TEST_REGISTRY="127.0.0.1:$port" HARMONT_TEST_REGISTRY_ROOT="$dir"
      log "registry for the shared-cache tests on 127.0.0.1:$port"
      return 0
    fi
    sleep 0.1
  done
  echo "docker-registry did not answer on 127.0.0.1:$port; see $dir/registry.log" >&2
}

if [ "$(id -u)" = 0 ]; then
  install_prerequisites
  start_dockerd || true   # the Docker tests then fail and say why
  # A Debian root with gcc, make and ccache from the Debian mirror apt uses; built once, kept by its tag.
  bash bench/zlib/debian-image.sh || echo "could not build the Debian test image; the incremental make tests fail" >&2
else
  echo "not root: skipping installs; tests needing Docker, XFS or fuse fail if those are missing" >&2
fi
start_registry

log "build (Release, warnings are errors)"
if ! dotnet build Harmont.Aot.sln -c Release -nologo -clp:ErrorsOnly; then
  echo "0 passed, 1 failed"
  exit 1
fi

log "test (every project, Microsoft.Testing.Platform)"
out=$(mktemp)
dotnet test --solution Harmont.Aot.sln -c Release --no-build --no-progress --output Detailed 2>&1 | tee "$out"
status=${PIPESTATUS[0]}
# The platform ends with "  failed: N" and "  succeeded: N"; TUnit prints no "N passed" line itself.
failed=$(grep -E '^\s*failed: [0-9]+' "$out" | tail -n1 | grep -oE '[0-9]+' || true)
passed=$(grep -E '^\s*succeeded: [0-9]+' "$out" | tail -n1 | grep -oE '[0-9]+' || true)
rm -f "$out"
failed=${failed:-0}; passed=${passed:-0}
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi   # crashed, or ran no test

log "fresh repository (the package from a folder feed, as a new user's pipeline.cs)"
out=$(mktemp)
bash tests/fresh-repo.sh 2>&1 | tee "$out"
fresh_status=${PIPESTATUS[0]}
counts=$(grep -E '^fresh-repo: [0-9]+ passed, [0-9]+ failed$' "$out" | tail -n1)
rm -f "$out"
if [ -z "$counts" ]; then counts="fresh-repo: 0 passed, 1 failed"; fi   # it stopped before its closing line
passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$counts")))
failed=$((failed + $(sed -E 's/.*, ([0-9]+) failed/\1/' <<<"$counts")))
if [ "$fresh_status" != 0 ]; then status=1; fi

echo
echo "$passed passed, $failed failed"
exit "$status"
