#!/usr/bin/env bash
# A new user's repository, as the README tells it: the Harmont.Aot package from a folder feed, a pipeline.cs
# whose whole header is one `#:package` line, and no file of this repository. Packs the package, then in a
# temp dir holding only `git init`, a nuget.config, one source file and pipeline.cs: `dotnet run pipeline.cs`,
# `dotnet publish pipeline.cs -o out` and `./out/pipeline`, and a misspelt step name as the HM0002 compile error.
# Ends with "fresh-repo: N passed, N failed"; tests/run.sh adds the counts to its own.
set -uo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

passed=0 failed=0
pass() { passed=$((passed + 1)); echo "  ok    $1"; }
fail() {
  failed=$((failed + 1)); echo "  FAIL  $1"
  if [ $# -gt 1 ]; then printf '%s\n' "$2" | tail -n 40 | sed 's/^/        /'; fi
}
finish() { echo; echo "fresh-repo: $passed passed, $failed failed"; exit $((failed > 0)); }
# check NAME COMMAND-OUTPUT CONDITION...: one counted check; the output is shown when it fails.
check() { local name=$1 output=$2; shift 2; if "$@"; then pass "$name"; else fail "$name" "$output"; fi; }
has() { grep -qE -- "$2" <<<"$1"; }
lacks() { ! grep -qE -- "$2" <<<"$1"; }

tmp=$(mktemp -d -t harmont-fresh.XXXXXXXX)
feed=$tmp/feed user=$tmp/repo
# A version no run used before, so a package left in the global packages folder can never stand in for this one.
suffix="fresh.$(date +%s).$$"
global_packages=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')
version=""
cleanup() {
  rm -rf "$tmp"
  if [ -n "$version" ] && [ -n "$global_packages" ]; then rm -rf "${global_packages%/}/harmont.aot/$version"; fi
}
trap cleanup EXIT
# dotnet keeps a file-based program's build under XDG_DATA_HOME (dotnet/runfile): inside $tmp, it goes with it.
export XDG_DATA_HOME=$tmp/xdg HARMONT_CACHE_DIR=$tmp/cache
mkdir -p "$XDG_DATA_HOME"

echo "fresh repository: pack into a folder feed, then use it from $user"
if ! out=$(dotnet build src/Harmont.Aot/Harmont.Aot.csproj -c Release -nologo -clp:ErrorsOnly 2>&1); then
  fail "the runtime builds" "$out"; finish
fi
# The build above is the one packed; the suffix changes only the package's version.
out=$(dotnet pack src/Harmont.Aot/Harmont.Aot.csproj -c Release --no-build -nologo -o "$feed" -p:VersionSuffix="$suffix" 2>&1)
status=$?
nupkg=$(find "$feed" -maxdepth 1 -name 'Harmont.Aot.*.nupkg' 2>/dev/null | head -n 1)
check "dotnet pack writes the package and its symbol package" "$out" \
  test "$status" = 0 -a -n "$nupkg" -a -n "$(find "$feed" -maxdepth 1 -name 'Harmont.Aot.*.snupkg')"
[ -n "$nupkg" ] || finish
version=$(basename "$nupkg" .nupkg); version=${version#Harmont.Aot.}

mkdir -p "$user/src"
git -C "$user" init -q
echo "hello from a fresh repository" >"$user/src/hello.txt"
cat >"$user/nuget.config" <<EOF
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <add key="harmont-local" value="$feed" />
  </packageSources>
</configuration>
EOF
cat >"$user/pipeline.cs" <<EOF
#:package Harmont.Aot@$version

using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

[Pipeline("fresh", Runner = Runner.Host)]
static partial class Fresh
{
    [Step, CacheOnChange("src/**")]
    static string Build() => "tr a-z A-Z < src/hello.txt > built.txt && echo built";

    [Step(From = nameof(Build))]
    static string Shout() => "cat built.txt";
}
EOF

out=$(cd "$user" && dotnet run pipeline.cs 2>&1); status=$?
check "dotnet run pipeline.cs runs the pipeline from the package on the host" "$out" \
  eval 'test $status = 0 && has "$out" "\[shout *\] HELLO FROM A FRESH REPOSITORY" && has "$out" "pipeline .fresh. passed"'

out=$(cd "$user" && dotnet publish pipeline.cs -o out 2>&1); status=$?
check "dotnet publish pipeline.cs -o out gives one native binary, with no trim or AOT warning" "$out" \
  eval 'test $status = 0 && lacks "$out" "warning IL[23][0-9]{3}" && test "$(head -c 4 "$user/out/pipeline" 2>/dev/null | od -An -c | tr -d " ")" = "177ELF" && test -z "$(find "$user/out" -name "*.dll")"'

out=$(cd "$user" && ./out/pipeline 2>&1); status=$?
# The binary computes the same keys as dotnet run did: its build step is the cache hit that run recorded.
check "./out/pipeline runs the pipeline, reusing the cache dotnet run filled" "$out" \
  eval 'test $status = 0 && has "$out" "\[shout *\] HELLO FROM A FRESH REPOSITORY" && has "$out" "^build +passed .* yes$"'

sed -i 's/From = nameof(Build)/From = "Biuld"/' "$user/pipeline.cs"
out=$(cd "$user" && dotnet run pipeline.cs 2>&1); status=$?
check "a misspelt From is compile error HM0002 through the package, and nothing runs" "$out" \
  eval 'test $status != 0 && has "$out" "pipeline\.cs\([0-9]+,[0-9]+\): error HM0002: .Biuld. is not a step" && lacks "$out" "harmont: running"'

finish
