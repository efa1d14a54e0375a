using System.ComponentModel;
using System.Reflection;
using System.Runtime.CompilerServices;
using Harmont.Aot.Cli;
using PublicApiGenerator;

namespace Harmont.Aot.Tests;

/// <summary>
/// The package's public surface, as C#, against the checked-in Api/PublicApi.approved.txt: a type or member made
/// public, removed or changed fails here until the snapshot is rewritten (HARMONT_UPDATE_SNAPSHOTS=1) and reviewed.
/// </summary>
public sealed class PublicApiTests
{
    // What a pipeline's author uses: the attributes, Runner, Network, HarmontCli and the model the generator writes.
    private const int MostPublicTypes = 20;

    [Test]
    public async Task Public_surface_matches_the_approved_snapshot() =>
        await Match("PublicApi.approved.txt", Surface());

    [Test]
    public async Task Public_surface_has_at_most_twenty_top_level_types()
    {
        var types = typeof(HarmontCli).Assembly.GetExportedTypes().Where(t => !t.IsNested).Select(t => t.FullName).ToList();
        await Assert.That(types.Count <= MostPublicTypes).IsTrue().Because(string.Join(", ", types));
    }

    // The snapshot leaves [EditorBrowsable] out, so the members hidden from IntelliSense are pinned here: values the
    // generator computes for the runner, which a pipeline's author never sets or reads.
    [Test]
    public async Task Only_generator_computed_members_are_hidden_from_IntelliSense()
    {
        var hidden = typeof(HarmontCli).Assembly.GetExportedTypes()
            .SelectMany(t => t.GetMembers(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly))
            .Where(m => m.GetCustomAttribute<EditorBrowsableAttribute>()?.State == EditorBrowsableState.Never)
            .Select(m => $"{m.DeclaringType!.Name}.{m.Name}")
            .Order(StringComparer.Ordinal);
        await Assert.That(string.Join(", ", hidden)).IsEqualTo("StepDefinition.ConstantCommand, StepDefinition.DefinitionHash");
    }

    // Assembly attributes carry the version and InternalsVisibleTo, which are not the surface.
    private static string Surface() =>
        typeof(HarmontCli).Assembly.GeneratePublicApi(new ApiGeneratorOptions { IncludeAssemblyAttributes = false })
            .Replace("\r\n", "\n", StringComparison.Ordinal) + "\n";

    private static async Task Match(string name, string actual, [CallerFilePath] string testFile = "")
    {
        if (Environment.GetEnvironmentVariable("HARMONT_UPDATE_SNAPSHOTS") == "1")
        {
            await File.WriteAllTextAsync(Path.Combine(Path.GetDirectoryName(testFile)!, name), actual);
            return;
        }

        // The copy beside the test assembly: the compile-time path may not exist where tests run.
        var path = Path.Combine(AppContext.BaseDirectory, "Api", name);
        await Assert.That(File.Exists(path)).IsTrue().Because($"no snapshot {path}; run with HARMONT_UPDATE_SNAPSHOTS=1 and review it");
        await Assert.That(actual).IsEqualTo(await File.ReadAllTextAsync(path));
    }
}
