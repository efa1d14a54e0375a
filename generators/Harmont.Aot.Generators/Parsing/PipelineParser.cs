using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Harmont.Aot.Generators.Model;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;
using Microsoft.CodeAnalysis.CSharp.Syntax;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>Turns one [Pipeline] class into a <see cref="PipelineParseResult"/>: the emittable spec plus its diagnostics.</summary>
internal static class PipelineParser
{
    private static readonly PipelineParseResult Nothing = new(null, null, default);

    public static PipelineParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        if (context.TargetNode is not ClassDeclarationSyntax declaration
            || context.TargetSymbol is not INamedTypeSymbol type
            || context.Attributes.FirstOrDefault() is not { } attribute
            || !IsFirstPipelineAttribute(type, attribute))
        {
            return Nothing;
        }

        var diagnostics = new List<DiagnosticInfo>();
        var args = new AttributeArguments(attribute, cancellationToken);
        var slug = args.ConstructorString(0);
        var slugSite = slug is null ? null : new SlugSite(slug, LocationInfo.From(args.ConstructorExpression(0) ?? (SyntaxNode?)args.Syntax));

        var containingTypes = ContainingTypes(declaration, type, diagnostics);
        CheckPipelineClass(declaration, type, diagnostics);

        var types = KnownTypes.From(context.SemanticModel.Compilation);
        var drafts = new List<StepDraft>();
        foreach (var method in type.GetMembers().OfType<IMethodSymbol>())
        {
            cancellationToken.ThrowIfCancellationRequested();
            var step = method.GetAttributes().FirstOrDefault(a => KnownTypes.Is(a, types.StepAttribute));
            if (step is not null)
            {
                drafts.Add(StepParser.Parse(method, step, context.SemanticModel, types, diagnostics, cancellationToken));
            }
        }

        var pipelineEnv = SettingReader.ReadEnv(type, types, diagnostics, cancellationToken);
        var pipelineSecrets = SettingReader.ReadSecrets(type, types, diagnostics, cancellationToken);
        var timeout = SettingReader.ReadTimeout(args, diagnostics);
        var graph = GraphValidator.Validate(slug ?? type.Name, drafts, diagnostics);
        var settings = drafts.Select(draft => StepSettings.Resolve(draft, pipelineEnv, pipelineSecrets, diagnostics)).ToList();
        StepSettings.CheckPipelineLevel(pipelineEnv, pipelineSecrets, type.Name, diagnostics);

        // A pipeline with errors emits nothing, so the user sees the real error and no cascade.
        // A null slug already has a compiler warning (nullable) at the argument; nothing sensible to emit.
        PipelineSpec? spec = null;
        if (slug is not null && !diagnostics.Any(d => d.IsError))
        {
            var defaultImage = args.NamedString("DefaultImage");
            var runner = RunnerReader.Read(args.Named("Runner"), types.Runner, defaultValue: 1);
            var steps = drafts.Select((draft, i) => new StepSpec(
                Names.EscapeIdentifier(draft.MethodName),
                draft.Key,
                draft.Label,
                draft.ConstantCommand,
                graph[i].From,
                graph[i].After.ToEquatableArray(),
                draft.Image,
                settings[i].Env,
                settings[i].Secrets,
                draft.Cwd,
                draft.Timeout,
                draft.Cache.ToEquatableArray(),
                draft.Runner,
                StepSettings.DefinitionHash(draft, settings[i], defaultImage, runner))
            {
                Incremental = draft.Incremental,
                CacheMounts = draft.CacheMounts.ToEquatableArray(),
                Network = draft.Network,
            });

            spec = new PipelineSpec(
                HintName: Names.ToHintName(type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted))),
                Namespace: type.ContainingNamespace.IsGlobalNamespace
                    ? null
                    : type.ContainingNamespace.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)),
                ContainingTypes: containingTypes.ToEquatableArray(),
                Type: Declaration(declaration),
                TypeExpression: type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat),
                Slug: slug,
                DefaultImage: defaultImage,
                Runner: runner,
                Timeout: timeout,
                Project: args.NamedString("Project"),
                Env: pipelineEnv.Select(e => e.Entry).ToEquatableArray(),
                Steps: steps.ToEquatableArray());
        }

        return new PipelineParseResult(spec, slugSite, diagnostics.ToEquatableArray());
    }

    /// <summary>
    /// [Pipeline] on two partial parts is already CS0579; only the first part produces output,
    /// so the hint name stays unique and the generator does not crash.
    /// </summary>
    private static bool IsFirstPipelineAttribute(INamedTypeSymbol type, AttributeData attribute)
    {
        var first = type.GetAttributes().FirstOrDefault(a =>
            SymbolEqualityComparer.Default.Equals(a.AttributeClass, attribute.AttributeClass));
        return first?.ApplicationSyntaxReference is not { } firstReference
            || attribute.ApplicationSyntaxReference is not { } reference
            || (firstReference.SyntaxTree == reference.SyntaxTree && firstReference.Span == reference.Span);
    }

    /// <summary>HM0008 for the class itself: the generated part must be able to join it and the catalog to reach it.</summary>
    private static void CheckPipelineClass(ClassDeclarationSyntax declaration, INamedTypeSymbol type, List<DiagnosticInfo> diagnostics)
    {
        var location = LocationInfo.From(declaration.Identifier);
        if (!type.IsStatic || !declaration.Modifiers.Any(SyntaxKind.PartialKeyword))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidPipelineClass, location, type.Name, "declared 'static partial'"));
        }

        if (type.Arity > 0)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidPipelineClass, location, type.Name, "non-generic"));
        }

        for (var t = type; t is not null; t = t.ContainingType)
        {
            if (t.IsFileLocal || t.DeclaredAccessibility is Accessibility.Private or Accessibility.Protected or Accessibility.ProtectedAndInternal)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidPipelineClass, location, type.Name,
                    "reachable from the whole assembly (no private, protected or file-local class around it) for the pipeline catalog"));
                return;
            }
        }
    }

    /// <summary>The enclosing type declarations, outermost first; each must be a non-generic partial (HM0008).</summary>
    private static List<TypeDeclarationSpec> ContainingTypes(ClassDeclarationSyntax declaration, INamedTypeSymbol type, List<DiagnosticInfo> diagnostics)
    {
        var result = new List<TypeDeclarationSpec>();
        foreach (var parent in declaration.Ancestors().OfType<TypeDeclarationSyntax>())
        {
            if (!parent.Modifiers.Any(SyntaxKind.PartialKeyword) || parent.TypeParameterList is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(
                    DiagnosticDescriptors.InvalidPipelineClass, LocationInfo.From(parent.Identifier), parent.Identifier.ValueText,
                    $"declared 'partial' and non-generic because it contains pipeline class '{type.Name}'"));
            }

            result.Insert(0, Declaration(parent));
        }

        return result;
    }

    private static TypeDeclarationSpec Declaration(TypeDeclarationSyntax declaration)
    {
        var keyword = declaration is RecordDeclarationSyntax { ClassOrStructKeyword.RawKind: not 0 } record
            ? $"{record.Keyword.Text} {record.ClassOrStructKeyword.Text}"
            : declaration.Keyword.Text;
        return new TypeDeclarationSpec(
            string.Join(" ", declaration.Modifiers.Select(m => m.Text)),
            keyword,
            declaration.Identifier.Text);
    }
}
