using Harmont.Aot.Model;
using System.Collections.Generic;
using System.Linq;
using System.Threading;
using Harmont.Aot.Generators.Model;
using Microsoft.CodeAnalysis;

namespace Harmont.Aot.Generators.Parsing;

/// <summary>Reads the settings attributes a step or a pipeline class carries: timeout, env, secrets and cache policies.</summary>
internal static class SettingReader
{
    /// <summary>The Timeout argument of [Step] or [Pipeline] as a positive duration (HM0013 otherwise).</summary>
    public static DurationSpec? ReadTimeout(AttributeArguments args, List<DiagnosticInfo> diagnostics)
    {
        if (args.Named("Timeout") is not { } constant || constant.IsNull || AttributeArguments.AsString(constant) is not { } text)
        {
            return null;
        }

        var ticks = DurationParser.Parse(text, out var problem);
        if ((ticks is null ? problem : DurationParser.CheckPositive(ticks.Value)) is { } reason)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTimeout, LocationInfo.From(args.NamedExpression("Timeout")), text, reason));
            return null;
        }

        return new DurationSpec(text, ticks!.Value);
    }

    /// <summary>[Env] entries of a method or of the pipeline class (HM0009 for a malformed one).</summary>
    public static List<EnvDraft> ReadEnv(ISymbol symbol, KnownTypes types, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var env = new List<EnvDraft>();
        foreach (var attribute in symbol.GetAttributes())
        {
            if (!KnownTypes.Is(attribute, types.EnvAttribute)
                || attribute.ConstructorArguments.Length != 1
                || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error)
            {
                continue;
            }

            var assignment = AttributeArguments.AsString(attribute.ConstructorArguments[0]);
            var separator = assignment?.IndexOf('=') ?? -1;
            var args = new AttributeArguments(attribute, cancellationToken);
            var location = LocationInfo.From(args.ConstructorExpression(0)) ?? LocationInfo.From(args.Syntax);
            if (separator <= 0)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.MalformedEnv, location, assignment ?? "null"));
                continue;
            }

            env.Add(new EnvDraft(new EnvSpec(assignment!.Substring(0, separator), assignment.Substring(separator + 1)), location));
        }

        return env;
    }

    /// <summary>[CacheMount] paths and ids of a step; the runtime checks them (a bad one is exit 2 naming it).</summary>
    public static List<CacheMountSpec> ReadCacheMounts(IMethodSymbol method, KnownTypes types, CancellationToken cancellationToken)
    {
        var mounts = new List<CacheMountSpec>();
        foreach (var attribute in method.GetAttributes())
        {
            if (!KnownTypes.Is(attribute, types.CacheMountAttribute)
                || attribute.ConstructorArguments.Length != 1
                || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error
                || AttributeArguments.AsString(attribute.ConstructorArguments[0]) is not { } path)
            {
                continue;
            }

            mounts.Add(new CacheMountSpec(path, new AttributeArguments(attribute, cancellationToken).NamedString("Id")));
        }

        return mounts;
    }

    /// <summary>[Secret] names of a method or of the pipeline class (HM0015 for one that is not a variable name).</summary>
    public static List<Site> ReadSecrets(ISymbol symbol, KnownTypes types, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var secrets = new List<Site>();
        foreach (var attribute in symbol.GetAttributes())
        {
            if (!KnownTypes.Is(attribute, types.SecretAttribute)
                || attribute.ConstructorArguments.Length != 1
                || attribute.ConstructorArguments[0].Kind == TypedConstantKind.Error)
            {
                continue;
            }

            var name = AttributeArguments.AsString(attribute.ConstructorArguments[0]);
            var args = new AttributeArguments(attribute, cancellationToken);
            var location = LocationInfo.From(args.ConstructorExpression(0)) ?? LocationInfo.From(args.Syntax);
            if (!SettingRules.IsVariableName(name))
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidVariableName, location, name ?? "null"));
                continue;
            }

            secrets.Add(new Site(name!, location));
        }

        return secrets;
    }

    /// <summary>The [CacheForever], [CacheTtl] and [CacheOnChange] policies of a step (HM0010, HM0011, HM0015), in declaration order.</summary>
    public static List<CacheSpec> ReadCache(
        IMethodSymbol method, KnownTypes types, List<Site> envKeySites, List<DiagnosticInfo> diagnostics, CancellationToken cancellationToken)
    {
        var policies = new List<CacheSpec>();
        foreach (var attribute in method.GetAttributes())
        {
            var isForever = KnownTypes.Is(attribute, types.CacheForeverAttribute);
            var isTtl = KnownTypes.Is(attribute, types.CacheTtlAttribute);
            var isOnChange = KnownTypes.Is(attribute, types.CacheOnChangeAttribute);
            if (!(isForever || isTtl || isOnChange) || attribute.ConstructorArguments.Any(a => a.Kind == TypedConstantKind.Error))
            {
                continue;
            }

            var args = new AttributeArguments(attribute, cancellationToken);
            if (isOnChange)
            {
                var globs = new List<string>();
                var valid = true;
                foreach (var (glob, location) in args.ParamsStrings(0))
                {
                    if (SettingRules.CheckGlob(glob) is { } problem)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidGlob, location, glob ?? "null", problem));
                        valid = false;
                    }
                    else
                    {
                        globs.Add(glob!);
                    }
                }

                if (globs.Count == 0 && valid)
                {
                    diagnostics.Add(DiagnosticInfo.Create(
                        DiagnosticDescriptors.InvalidGlob, LocationInfo.From(args.Syntax), "", "list is empty; name at least one pattern, such as \"src/**\""));
                }

                policies.Add(new CacheSpec(CacheSpec.KindOnChange, null, globs.ToEquatableArray()));
                continue;
            }

            DurationSpec? ttl = null;
            if (isTtl)
            {
                var text = args.ConstructorString(0);
                var ticks = DurationParser.Parse(text, out var problem);
                if ((ticks is null ? problem : DurationParser.CheckPositive(ticks.Value)) is { } reason)
                {
                    var location = LocationInfo.From(args.ConstructorExpression(0)) ?? LocationInfo.From(args.Syntax);
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTtl, location, text ?? "null", reason));
                }
                else
                {
                    ttl = new DurationSpec(text!, ticks!.Value);
                }
            }

            var keys = new List<string>();
            foreach (var (key, location) in args.ParamsStrings(isTtl ? 1 : 0))
            {
                if (!SettingRules.IsVariableName(key))
                {
                    diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidVariableName, location, key ?? "null"));
                    continue;
                }

                keys.Add(key!);
                envKeySites.Add(new Site(key!, location));
            }

            policies.Add(new CacheSpec(isTtl ? CacheSpec.KindTtl : CacheSpec.KindForever, ttl, keys.ToEquatableArray()));
        }

        return policies;
    }
}
