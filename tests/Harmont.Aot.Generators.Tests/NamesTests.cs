using Harmont.Aot.Generators.Parsing;
using Xunit;

namespace Harmont.Aot.Generators.Tests;

/// <summary>Default step keys: the method name in kebab-case.</summary>
public sealed class NamesTests
{
    [Theory]
    [InlineData("Deps", "deps")]
    [InlineData("RunTests", "run-tests")]
    [InlineData("BuildHTTPServer", "build-http-server")]
    [InlineData("IOTest", "io-test")]
    [InlineData("Net9Build", "net9-build")]
    [InlineData("Build2", "build2")]
    [InlineData("run_unit_tests", "run-unit-tests")]
    [InlineData("_Private", "private")]
    public void Default_key_is_the_method_name_in_kebab_case(string method, string key) =>
        Assert.Equal(key, Names.ToKebabCase(method));
}
