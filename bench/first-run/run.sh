#!/usr/bin/env bash
# Time to first run of a new 3-step pipeline, as a new user has it: from the Harmont.Aot package (one
# `#:package` line and a nuget.config naming a folder feed) against a `#:project` reference to a fresh clone
# of this repository (with the Directory.Build.props that wires the generator in). For each: the first
# `dotnet run pipeline.cs`, then a second run after an edit to the pipeline. Steps run on the host, and do
# nothing, so the times are dotnet's: restore, build, start.
#   bash bench/first-run/run.sh [REF]   # REF: the commit the project-reference clone checks out (default HEAD)
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
ref=${1:-HEAD}
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

tmp=$(mktemp -d -t harmont-first-run.XXXXXXXX)
global_packages=$(dotnet nuget locals global-packages --list | sed -n 's/^global-packages: //p')
version=""
cleanup() { rm -rf "$tmp"; if [ -n "$version" ]; then rm -rf "${global_packages%/}/harmont.aot/$version"; fi; }
trap cleanup EXIT
# Every file-based program's build lands under XDG_DATA_HOME: a new one, so no earlier build is reused.
export XDG_DATA_HOME=$tmp/xdg HARMONT_CACHE_DIR=$tmp/cache
mkdir -p "$XDG_DATA_HOME"

echo "packing Harmont.Aot (not timed)"
dotnet pack "$repo/src/Harmont.Aot/Harmont.Aot.csproj" -c Release -nologo -o "$tmp/feed" \
  -p:VersionSuffix="first-run.$(date +%s).$$" >"$tmp/pack.log" 2>&1 || { tail -20 "$tmp/pack.log"; exit 1; }
version=$(basename "$(find "$tmp/feed" -name 'Harmont.Aot.*.nupkg' | head -n 1)" .nupkg); version=${version#Harmont.Aot.}
echo "cloning $ref for the project reference (not timed)"
git clone -q "$repo" "$tmp/harmont" && git -C "$tmp/harmont" checkout -q "$ref"

body() {
  cat <<'EOF'

using Harmont.Aot;
using Harmont.Aot.Cli;
using Harmont.Aot.Generated;

return await HarmontCli.RunAsync(args, PipelineCatalog.All);

[Pipeline("first", Runner = Runner.Host)]
static partial class First
{
    [Step]
    static string Prepare() => "echo prepare";

    [Step(From = nameof(Prepare))]
    static string Build() => "echo build";

    [Step(From = nameof(Build))]
    static string Test() => "echo test";
}
EOF
}

mkdir -p "$tmp/package" "$tmp/project"
git -C "$tmp/package" init -q
cat >"$tmp/package/nuget.config" <<EOF
<configuration><packageSources><add key="harmont" value="$tmp/feed" /></packageSources></configuration>
EOF
{ echo "#:package Harmont.Aot@$version"; body; } >"$tmp/package/pipeline.cs"

git -C "$tmp/project" init -q
if grep -q HarmontTargetFramework "$tmp/harmont/Directory.Build.props"; then
  # Before the package: the two properties the README of that time put in every pipeline.
  { echo "#:project $tmp/harmont/src/Harmont.Aot/Harmont.Aot.csproj"
    echo '#:property TargetFramework=$(HarmontTargetFramework)'
    echo '#:property PublishAot=$(HarmontPublishAot)'; body; } >"$tmp/project/pipeline.cs"
  props='<HarmontTargetFramework>net10.0</HarmontTargetFramework><HarmontPublishAot>false</HarmontPublishAot>'
else
  { echo "#:project $tmp/harmont/src/Harmont.Aot/Harmont.Aot.csproj"; body; } >"$tmp/project/pipeline.cs"
  props=''
fi
cat >"$tmp/project/Directory.Build.props" <<EOF
<Project>
  <PropertyGroup Condition="'\$(FileBasedProgram)' == 'true'">$props</PropertyGroup>
  <ItemGroup Condition="'\$(FileBasedProgram)' == 'true'">
    <ProjectReference Include="$tmp/harmont/generators/Harmont.Aot.Generators/Harmont.Aot.Generators.csproj"
                      OutputItemType="Analyzer" ReferenceOutputAssembly="false" />
  </ItemGroup>
</Project>
EOF

timed() { # DIR LABEL: one dotnet run, its wall time in seconds
  local start end
  start=$(date +%s.%N)
  if ! (cd "$1" && dotnet run pipeline.cs) >"$tmp/run.log" 2>&1 || ! grep -q "\[test *\] test" "$tmp/run.log"; then
    tail -30 "$tmp/run.log" >&2; echo "$2 failed" >&2; exit 1
  fi
  end=$(date +%s.%N)
  awk -v s="$start" -v e="$end" 'BEGIN { printf "%.1f", e - s }'
}

printf 'load average before: %s\n\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %12s %22s\n' "reference" "first run" "after an edit"
for kind in package project; do
  first=$(timed "$tmp/$kind" "$kind, first run")
  sed -i 's/echo test"/echo test; echo edited"/' "$tmp/$kind/pipeline.cs"
  second=$(timed "$tmp/$kind" "$kind, after an edit")
  printf '%-22s %11ss %21ss\n' "$kind" "$first" "$second"
done
printf '\nload average after: %s\n' "$(cut -d' ' -f1-3 /proc/loadavg)"
