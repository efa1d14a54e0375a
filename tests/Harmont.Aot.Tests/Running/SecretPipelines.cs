namespace Harmont.Aot.Tests;

// Secrets and working directories, compiled by the real generator.

[Pipeline("host-secrets", Runner = Runner.Host)]
internal static partial class HostSecrets
{
    [Step]
    private static string Prepare() => "mkdir -p sub/dir && echo inside > sub/dir/marker.txt";

    [Step(From = nameof(Prepare), Cwd = "sub/dir"), Secret("HM_TEST_SECRET")]
    private static string Use() => "cat marker.txt && echo \"token=$HM_TEST_SECRET\" && echo \"$HM_TEST_SECRET\" >&2";
}

[Pipeline("docker-secrets", DefaultImage = BusyboxImage.Image, Runner = Runner.Docker)]
internal static partial class DockerSecrets
{
    [Step, Secret("HM_TEST_SECRET")]
    private static string Prepare() => "mkdir -p sub/dir && echo inside > sub/dir/marker.txt && echo \"token=$HM_TEST_SECRET\"";

    // The child has no secret: it must not find the parent's in its inherited image either.
    [Step(From = nameof(Prepare), Cwd = "sub/dir")]
    private static string Inspect() => "pwd && cat marker.txt && (env | grep HM_TEST_SECRET || echo no-secret-in-env) && (ls /dev/harmont-secrets.sh 2>/dev/null || echo no-secret-file)";
}

[Pipeline("missing-secret", Runner = Runner.Host)]
internal static partial class MissingSecret
{
    [Step, Secret("HM_TEST_SECRET_NEVER_SET")]
    private static string Use() => "echo never";
}
