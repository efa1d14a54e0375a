using Harmont.Aot.Generators.Parsing;

namespace Harmont.Aot.Generators.Tests;

/// <summary>Default step keys: the method name in kebab-case.</summary>
[NotInParallel(nameof(NamesTests))]
public sealed class NamesTests
{
    [Test]
    [Arguments("Deps", "deps")]
    [Arguments("RunTests", "run-tests")]
    [Arguments("BuildHTTPServer", "build-http-server")]
    [Arguments("IOTest", "io-test")]
    [Arguments("Net9Build", "net9-build")]
    [Arguments("Build2", "build2")]
    [Arguments("run_unit_tests", "run-unit-tests")]
    [Arguments("_Private", "private")]
    public async Task Default_key_is_the_method_name_in_kebab_case(string method, string key) =>
        await Assert.That(Names.ToKebabCase(method)).IsEqualTo(key);
}
