using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Harmont.Aot.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>Reads one [Step] method into a <see cref="StepDraft"/>, reporting problems local to that step.</summary>
internal static class StepParser
{
    public static StepDraft Parse(
        IMethodSymbol method,
        AttributeData stepAttribute,
        SemanticModel semanticModel,
        KnownTypes types,
        List<DiagnosticInfo> diagnostics,
        CancellationToken cancellationToken)
    {
        var args = new AttributeArguments(stepAttribute, cancellationToken);
        CheckShape(method, diagnostics);

        var explicitKey = args.NamedString("Key");
        var from = args.NamedString("From") is { } fromName
            ? new StepReference(fromName, LocationInfo.From(args.NamedExpression("From")))
            : null;
        var image = args.NamedString("Image");
        if (image is not null && from is not null)
        {
            diagnostics.Add(DiagnosticInfo.Create(
                DiagnosticDescriptors.ImageOnChildStep, LocationInfo.From(args.NamedExpression("Image")), method.Name, from.MethodName!));
        }

        var afterAll = args.Named("AfterAll") is { Value: true }
            ? new Site("AfterAll", LocationInfo.From(args.NamedExpression("AfterAll")))
            : null;
        var cwd = args.NamedString("Cwd");
        if (cwd is not null && SettingRules.CheckCwd(cwd) is { } cwdProblem)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidCwd, LocationInfo.From(args.NamedExpression("Cwd")), cwd, cwdProblem));
        }

        var cacheEnvKeys = new List<Site>();
        return new StepDraft(
            MethodName: method.Name,
            Key: explicitKey ?? Names.ToKebabCase(method.Name),
            KeyLocation: LocationInfo.From(explicitKey is null ? args.Syntax : args.NamedExpression("Key")),
            Label: args.NamedString("Label") ?? method.Name,
            ConstantCommand: ConstantCommand(method, semanticModel, cancellationToken),
            From: from,
            After: ReadAfter(args),
            AfterAll: afterAll,
            Image: image,
            Env: SettingReader.ReadEnv(method, types, diagnostics, cancellationToken),
            Secrets: SettingReader.ReadSecrets(method, types, diagnostics, cancellationToken),
            Cwd: cwd,
            Timeout: SettingReader.ReadTimeout(args, diagnostics),
            Cache: SettingReader.ReadCache(method, types, cacheEnvKeys, diagnostics, cancellationToken),
            CacheEnvKeys: cacheEnvKeys,
            Runner: RunnerReader.Read(args.Named("Runner"), types.Runner, defaultValue: 0),
            Network: RunnerReader.Read(args.Named("Network"), types.Network, defaultValue: 0))
        {
            Incremental = args.Named("Incremental") is { Value: true },
            CacheMounts = SettingReader.ReadCacheMounts(method, types, cancellationToken),
        };
    }

    private static void CheckShape(IMethodSymbol method, List<DiagnosticInfo> diagnostics)
    {
        var problems = new List<string>();
        if (!method.IsStatic)
        {
            problems.Add("is not static");
        }

        if (method.IsGenericMethod)
        {
            problems.Add("is generic");
        }

        if (method.Parameters.Length > 0)
        {
            problems.Add("has parameters");
        }

        if (method.ReturnType.SpecialType != SpecialType.System_String)
        {
            problems.Add("does not return string");
        }
        else if (method.ReturnNullableAnnotation == NullableAnnotation.Annotated)
        {
            // Func<string> would receive a possible null: a warning in the generated code, and no command at run time.
            problems.Add("returns a nullable string");
        }

        if (problems.Count == 0)
        {
            return;
        }

        var reasons = problems.Count == 1
            ? problems[0]
            : string.Join(", ", problems.Take(problems.Count - 1)) + " and " + problems[problems.Count - 1];
        diagnostics.Add(DiagnosticInfo.Create(
            DiagnosticDescriptors.InvalidStepMethod, LocationInfo.From(method.Locations.FirstOrDefault()), method.Name, reasons));
    }

    private static List<StepReference> ReadAfter(AttributeArguments args)
    {
        var values = args.NamedArray("After");
        if (values is null)
        {
            return [];
        }

        // Point at the element that names a step when the syntax lines up with the values,
        // otherwise at the whole After argument.
        var expression = args.NamedExpression("After");
        var elements = AttributeArguments.ElementExpressions(expression);
        var perElement = elements is not null && elements.Count == values.Count;

        var after = new List<StepReference>(values.Count);
        for (var i = 0; i < values.Count; i++)
        {
            // An element that does not bind (nameof of a missing member) already has a compiler error.
            if (values[i].Kind == TypedConstantKind.Error)
            {
                continue;
            }

            after.Add(new StepReference(
                AttributeArguments.AsString(values[i]),
                LocationInfo.From(perElement ? elements![i] : expression)));
        }

        return after;
    }

    /// <summary>The command when the method's single returned expression folds to a constant string.</summary>
    private static string? ConstantCommand(IMethodSymbol method, SemanticModel semanticModel, CancellationToken cancellationToken)
    {
        var implementation = method.PartialImplementationPart ?? method;
        if (implementation.DeclaringSyntaxReferences.FirstOrDefault()?.GetSyntax(cancellationToken) is not MethodDeclarationSyntax syntax)
        {
            return null;
        }

        var returned = syntax.ExpressionBody?.Expression
            ?? (syntax.Body is { Statements.Count: 1 } body && body.Statements[0] is ReturnStatementSyntax { Expression: { } expression }
                ? expression
                : null);
        if (returned is null)
        {
            return null;
        }

        // Steps may sit in another partial part, in another tree than the [Pipeline] declaration.
        var model = returned.SyntaxTree == semanticModel.SyntaxTree
            ? semanticModel
            : semanticModel.Compilation.GetSemanticModel(returned.SyntaxTree);
        return model.GetConstantValue(returned, cancellationToken) is { HasValue: true, Value: string text } ? text : null;
    }
}
