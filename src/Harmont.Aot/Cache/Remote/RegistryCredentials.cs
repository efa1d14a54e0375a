using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace Harmont.Aot.Cache.Remote;

/// <summary>A user name and password (or token) for a registry; an identity token goes to the token endpoint as a refresh token.</summary>
internal sealed record RegistryCredential(string Username, string Password)
{
    /// <summary>Docker's marker user name for a credential that is an identity (refresh) token.</summary>
    public const string TokenUser = "<token>";

    public bool IsIdentityToken => Username == TokenUser;

    public string BasicHeader => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Username}:{Password}"));

    // A credential is never printed, not even by a debugger's record display.
    public override string ToString() => $"credential for {Username}";
}

/// <summary>
/// Finds the credential for a registry host as Docker does: <c>HARMONT_CACHE_REMOTE_USER</c> and
/// <c>HARMONT_CACHE_REMOTE_PASSWORD</c> first, then <c>$DOCKER_CONFIG/config.json</c> (else
/// <c>~/.docker/config.json</c>): the host's <c>credHelpers</c> entry, else <c>credsStore</c>, by running
/// <c>docker-credential-NAME get</c>, else its <c>auths</c> entry. None found means anonymous.
/// </summary>
internal sealed class RegistryCredentials(Func<string, string?> getEnv)
{
    public const string UserVariable = "HARMONT_CACHE_REMOTE_USER";
    public const string PasswordVariable = "HARMONT_CACHE_REMOTE_PASSWORD";

    private static readonly TimeSpan HelperTimeout = TimeSpan.FromSeconds(30);

    /// <summary>The credential for <paramref name="host"/> (<c>name[:port]</c>), or null for anonymous access.</summary>
    /// <exception cref="RegistryException">The config file or a helper could not be read; the message says which.</exception>
    public async Task<RegistryCredential?> ForHostAsync(string host, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        if (getEnv(UserVariable) is { Length: > 0 } user && getEnv(PasswordVariable) is { } password)
        {
            return new RegistryCredential(user, password);
        }

        if (ReadConfig() is not { } config)
        {
            return null;
        }

        if (config.CredHelpers?.GetValueOrDefault(host) is { Length: > 0 } helper)
        {
            return await RunHelperAsync(helper, host, cancellationToken);
        }

        if (config.CredsStore is { Length: > 0 } store && await RunHelperAsync(store, host, cancellationToken) is { } stored)
        {
            return stored;
        }

        var auth = config.Auths?.FirstOrDefault(a => NormalizeHost(a.Key) == host).Value;
        if (auth is null)
        {
            return null;
        }

        if (auth.IdentityToken is { Length: > 0 } identity)
        {
            return new RegistryCredential(RegistryCredential.TokenUser, identity);
        }

        if (auth.Auth is { Length: > 0 } encoded)
        {
            string pair;
            try
            {
                pair = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            }
            catch (FormatException)
            {
                throw new RegistryException($"the auths entry for {host} in {ConfigPath()} is not base64 of user:password; run 'docker login {host}' again.");
            }

            return pair.IndexOf(':', StringComparison.Ordinal) is var colon and > 0
                ? new RegistryCredential(pair[..colon], pair[(colon + 1)..])
                : throw new RegistryException($"the auths entry for {host} in {ConfigPath()} holds no user:password; run 'docker login {host}' again.");
        }

        return auth.Username is { Length: > 0 } name && auth.Password is { } secret ? new RegistryCredential(name, secret) : null;
    }

    /// <summary>An <c>auths</c> key as a host: Docker writes <c>host:port</c>, <c>https://host/v1/</c> and the like.</summary>
    internal static string NormalizeHost(string key)
    {
        var host = key;
        if (host.IndexOf("://", StringComparison.Ordinal) is var scheme and >= 0)
        {
            host = host[(scheme + 3)..];
        }

        return host.Split('/')[0].ToLowerInvariant();
    }

    private string ConfigPath() =>
        getEnv("DOCKER_CONFIG") is { Length: > 0 } dir
            ? Path.Combine(dir, "config.json")
            : Path.Combine(getEnv("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".docker", "config.json");

    private DockerConfigFile? ReadConfig()
    {
        var path = ConfigPath();
        try
        {
            using var stream = File.OpenRead(path);
            return JsonSerializer.Deserialize(stream, RegistryJsonContext.Default.DockerConfigFile);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        catch (JsonException ex)
        {
            throw new RegistryException($"{path} is not valid JSON ({ex.Message}); fix or remove it.");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new RegistryException($"cannot read {path}: {ex.Message}");
        }
    }

    // Looked up on the PATH this run was given, so the helper is the one the user's shell would run.
    private string FindOnPath(string program) =>
        (getEnv("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists) ?? program;

    // The helper protocol: the server's host on stdin, {"Username","Secret"} on stdout, non-zero exit when it has none.
    private async Task<RegistryCredential?> RunHelperAsync(string name, string host, CancellationToken cancellationToken)
    {
        if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
        {
            throw new RegistryException($"the credential helper name '{name}' in the Docker config is not a plain name; fix credHelpers or credsStore.");
        }

        var program = $"docker-credential-{name}";
        var start = new ProcessStartInfo(FindOnPath(program), ["get"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new RegistryException($"{program} did not start.");
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            throw new RegistryException($"the Docker config names the credential helper {program}, which cannot be run ({ex.Message}); install it or fix the config.");
        }

        using (process)
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(HelperTimeout);
            try
            {
                await process.StandardInput.WriteAsync(host);
                process.StandardInput.Close();
                var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
                var error = process.StandardError.ReadToEndAsync(timeout.Token);
                await process.WaitForExitAsync(timeout.Token);
                if (process.ExitCode != 0)
                {
                    // "credentials not found" is how every helper says it has none: anonymous, not an error.
                    return null;
                }

                _ = await error;
                var reply = JsonSerializer.Deserialize(await output, RegistryJsonContext.Default.CredentialHelperReply);
                return reply?.Username is { Length: > 0 } user && reply.Secret is { } secret ? new RegistryCredential(user, secret) : null;
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                process.Kill(entireProcessTree: true);
                throw new RegistryException($"{program} get did not answer within {HelperTimeout.TotalSeconds:0} s.");
            }
            catch (JsonException)
            {
                throw new RegistryException($"{program} get printed something that is not its JSON reply.");
            }
        }
    }
}
