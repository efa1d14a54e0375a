namespace Harmont.Aot.Tests.Ir;

/// <summary>
/// IR documents exactly as harmont-py's <c>pipeline_to_json</c> writes them: one line, <c>", "</c> and <c>": "</c>
/// separators, its field order (type, key, cmd, builds_in, label, cache, env, timeout_seconds, image), no slug,
/// and a <c>cache.key</c> it computed when it rendered them, from another machine's files and clock.
/// </summary>
internal static class HarmontPyDocuments
{
    /// <summary>
    /// <c>pipeline(unit, lint, wait(), package, env={"CI": "true"}, default_image="alpine:3.20")</c> where
    /// deps = scratch().sh(..., cache=forever(env_keys=("ALPINE_MIRROR",)), image="alpine:3.21"),
    /// build = deps.sh(..., label="Build", cache=on_change("app"), env={"MODE": "release"}, timeout_seconds=600),
    /// unit and lint fork from build (lint with cwd="app", which harmont-py folds into the command), and
    /// package = scratch().sh("cat VERSION", cache=CacheCompose((ttl(timedelta(days=1)), on_change("VERSION")))).
    /// </summary>
    public static string Ci { get; } = Document(
        Top("""{"CI": "true"}""", "alpine:3.20"),
        """{"type": "command", "key": "deps", "cmd": "echo deps > deps.txt", "builds_in": null, "label": "deps", "cache": {"policy": "forever", "env_keys": ["ALPINE_MIRROR"], "key": "9c1d0f3b7e2a4c6d8e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"}, "image": "alpine:3.21"}""",
        """{"type": "command", "key": "build", "cmd": "cat deps.txt app/main.c app/lib/util.c > build.txt && echo \"mode $MODE\"", "builds_in": "deps", "label": "Build", "cache": {"policy": "on_change", "paths": ["app"], "key": "1f2e3d4c5b6a79880796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"}, "env": {"MODE": "release"}, "timeout_seconds": 600}""",
        """{"type": "command", "key": "unit-tests", "cmd": "cat build.txt", "builds_in": "build", "label": "Unit tests", "cache": {"policy": "forever", "env_keys": [], "key": "aa11bb22cc33dd44ee55ff6600770088aa11bb22cc33dd44ee55ff6600770088"}}""",
        """{"type": "command", "key": "lint", "cmd": "cd app && test -f ../build.txt && echo \"lint $CI\"", "builds_in": "build", "label": "lint", "cache": {"policy": "forever", "env_keys": [], "key": "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}}""",
        """{"type": "wait"}""",
        """{"type": "command", "key": "package", "cmd": "cat VERSION", "builds_in": null, "label": "package", "cache": {"policy": "compose", "sub_policies": [{"policy": "ttl", "duration_seconds": 86400, "env_keys": []}, {"policy": "on_change", "paths": ["VERSION"]}], "key": "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"}}""");

    /// <summary>A forever root and a daily (ttl) child: nothing on_change, so only the keys decide hits.</summary>
    public static string Nightly { get; } = Document(
        Top(null, "alpine:3.20"),
        """{"type": "command", "key": "deps", "cmd": "echo deps > deps.txt", "builds_in": null, "label": "deps", "cache": {"policy": "forever", "env_keys": [], "key": "5e884898da28047151d0e56f8dc6292773603d0d6aabbdd62a11ef721d1542d8"}}""",
        """{"type": "command", "key": "nightly", "cmd": "cat deps.txt", "builds_in": "deps", "label": "nightly", "cache": {"policy": "ttl", "duration_seconds": 86400, "env_keys": [], "key": "6b86b273ff34fce19d6b804eff5a3f5747ada4ea22f1d49c01e52ddb7875b4b8"}}""");

    /// <summary>The files <see cref="Ci"/> names, written into a repository.</summary>
    public static void WriteCiSources(RunHarness harness)
    {
        harness.WriteSource("app/main.c", "int main(void) { return 0; }\n");
        harness.WriteSource("app/lib/util.c", "int util(void) { return 1; }\n");
        harness.WriteSource("VERSION", "1.0.0\n");
    }

    /// <summary>One command step as harmont-py writes it, with only the fields given.</summary>
    public static string Command(string key, string cmd, string? extra = null) =>
        $$"""{"type": "command", "key": "{{key}}", "cmd": "{{cmd}}", "builds_in": null, "label": "{{key}}"{{(extra is null ? "" : ", " + extra)}}}""";

    /// <summary>A document of the given steps under harmont-py's top-level fields.</summary>
    public static string Document(string top, params string[] steps) => $$"""{{{top}}"steps": [{{string.Join(", ", steps)}}]}""";

    /// <summary>version, then env and default_image when given, as <c>pipeline()</c> orders them.</summary>
    public static string Top(string? env, string? defaultImage) =>
        "\"version\": \"0\", " + (env is null ? "" : $"\"env\": {env}, ") + (defaultImage is null ? "" : $"\"default_image\": \"{defaultImage}\", ");
}
