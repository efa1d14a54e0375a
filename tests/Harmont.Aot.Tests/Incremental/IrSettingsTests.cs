using Harmont.Aot.Ir;
using Harmont.Aot.Model;

namespace Harmont.Aot.Tests.Incremental;

/// <summary>The IR's <c>incremental</c> and <c>cache_mounts</c>: rendered, read back, and bad values refused naming the field.</summary>
[NotInParallel(nameof(IrSettingsTests))]
public sealed class IrSettingsTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harmont-ir-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Test]
    public async Task Render_writes_both_and_run_ir_reads_them_back()
    {
        var pipeline = new PipelineDefinition
        {
            Slug = "ci",
            Steps =
            [
                new StepDefinition
                {
                    Key = "build", Label = "build", Command = () => "make", ConstantCommand = "make", Incremental = true,
                    CacheMounts = [new CacheMount("/root/.cache/ccache", "ccache"), new CacheMount("~/.nuget/packages", null)],
                },
                new StepDefinition { Key = "test", Label = "test", Command = () => "make test", ConstantCommand = "make test", From = "build" },
            ],
        };

        var read = IrDocument.Parse(IrWriter.Render(pipeline), "ci.json", new IrReadOptions(_root, "ci"));
        var build = read.Steps.Single(s => s.Key == "build");
        await Assert.That(build.Incremental).IsTrue();
        await Assert.That(build.CacheMounts).IsEquivalentTo((IEnumerable<CacheMount>)[new CacheMount("/root/.cache/ccache", "ccache"), new CacheMount("~/.nuget/packages", null)]);
        await Assert.That(read.Steps.Single(s => s.Key == "test").Incremental).IsFalse();
        await Assert.That(build.CacheMounts[1].EffectiveId).IsEqualTo("home-.nuget-packages");
    }

    [Test]
    [Arguments("""{"incremental": "yes"}""", "x.json: steps[0].incremental must be true or false")]
    [Arguments("""{"cache_mounts": [{"path": "cache"}]}""", "is not an absolute path or one under '~/'")]
    [Arguments("""{"cache_mounts": [{"path": "/c", "id": "../up"}]}""", "cache mount id '../up' must be")]
    [Arguments("""{"cache_mounts": [{"path": "/workspace/c"}]}""", "is inside /workspace")]
    [Arguments("""{"cache_mounts": [{"path": "/c", "size": 1}]}""", "x.json: steps[0].cache_mounts[0]")]
    public async Task A_bad_value_is_an_error_naming_the_field(string fields, string expected)
    {
        var json = $$"""{"version": "0", "steps": [{"type": "command", "key": "a", "cmd": "x", {{fields[1..^1]}}}]}""";
        var error = (await Assert.That(() => IrDocument.Parse(json, "x.json", new IrReadOptions(_root))).ThrowsExactly<PipelineException>())!;
        await Assert.That(error.Message).Contains(expected);
    }
}
