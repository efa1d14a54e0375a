#!/usr/bin/env bash
# Builds harmont-test/debian-gcc:12, a Debian 12 minbase root with gcc, make and ccache, imported into the
# Docker engine: no registry is needed, only the Debian mirror this machine's apt uses. Skipped when the
# tag exists. Used by the zlib and cache-mount benches and by the incremental-make tests (tests/run.sh).
set -euo pipefail
tag=${HARMONT_DEBIAN_IMAGE:-harmont-test/debian-gcc:12}
if docker image inspect "$tag" >/dev/null 2>&1; then
  exit 0
fi
command -v debootstrap >/dev/null || apt-get install -y debootstrap >/dev/null
mirror=$(grep -rhsoE '^(URIs:|deb) +https?://[^ ]+/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d 2>/dev/null | head -1 | awk '{print $2}' || true)
mirror=${mirror:-http://deb.debian.org/debian}
root=$(mktemp -d /tmp/debian-gcc.XXXXXX)
trap 'rm -rf "$root"' EXIT
debootstrap --variant=minbase --include=gcc,make,libc6-dev,ccache bookworm "$root" "$mirror" >/dev/null
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
tar -C "$root" -c . | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' - "$tag" >/dev/null
echo "built $tag from $mirror"
