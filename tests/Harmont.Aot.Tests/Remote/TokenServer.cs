using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Harmont.Aot.Tests;

/// <summary>
/// A token realm for distribution's token auth, as Docker Hub and GHCR run one: checks a user's basic credential and
/// answers with an ES256 JWT carrying the scopes asked for, signed by a self-signed certificate the registry trusts.
/// </summary>
public sealed class TokenServer : IDisposable
{
    public const string Service = "harmont-test-registry";
    public const string Issuer = "harmont-test-issuer";

    private readonly HttpListener _listener = new();
    private readonly ECDsa _key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly X509Certificate2 _certificate;
    private readonly string _user;
    private readonly string _password;
    private int _issued;

    public TokenServer(string user, string password)
    {
        (_user, _password) = (user, password);
        var request = new CertificateRequest("CN=harmont test token issuer", _key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _ = ServeAsync();
    }

    public int Port { get; }

    public string Realm => $"http://127.0.0.1:{Port}/token";

    /// <summary>
    /// An action (<c>push</c> or <c>pull</c>) the credential may not have: a token request asking for it is refused with
    /// 403 and the error body GHCR and Harbor send, as for a read-only CI token.
    /// </summary>
    public string? ForbiddenAction { get; set; }

    /// <summary>Tokens handed out so far.</summary>
    public int Issued => Volatile.Read(ref _issued);

    /// <summary>The certificate bundle the registry trusts, as PEM.</summary>
    public string RootCertificatePem => _certificate.ExportCertificatePem();

    public void Dispose()
    {
        _listener.Close();
        _certificate.Dispose();
        _key.Dispose();
    }

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }

            using var response = context.Response;
            var basic = context.Request.Headers["Authorization"] is { } header && header.StartsWith("Basic ", StringComparison.Ordinal)
                ? Encoding.UTF8.GetString(Convert.FromBase64String(header[6..]))
                : null;
            if (basic != $"{_user}:{_password}")
            {
                response.StatusCode = 401;
                continue;
            }

            var scopes = context.Request.QueryString.GetValues("scope") ?? [];
            if (ForbiddenAction is { } forbidden && scopes.Any(s => s.Split(':').Last().Split(',').Contains(forbidden, StringComparer.Ordinal)))
            {
                response.StatusCode = 403;
                response.ContentType = "application/json";
                await response.OutputStream.WriteAsync(Encoding.UTF8.GetBytes("""{"errors":[{"code":"DENIED","message":"requested access to the resource is denied"}]}"""));
                continue;
            }

            var token = Sign(scopes);
            Interlocked.Increment(ref _issued);
            var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new JsonObject { ["token"] = token, ["expires_in"] = 300 }));
            response.ContentType = "application/json";
            await response.OutputStream.WriteAsync(body);
        }
    }

    private string Sign(IEnumerable<string> scopes)
    {
        var access = new JsonArray();
        foreach (var scope in scopes)
        {
            var parts = scope.Split(':');
            if (parts.Length == 3)
            {
                access.Add(new JsonObject { ["type"] = parts[0], ["name"] = parts[1], ["actions"] = new JsonArray([.. parts[2].Split(',').Select(a => (JsonNode)a)]) });
            }
        }

        var now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        var header = new JsonObject { ["typ"] = "JWT", ["alg"] = "ES256", ["x5c"] = new JsonArray(Convert.ToBase64String(_certificate.RawData)) };
        var claims = new JsonObject
        {
            ["iss"] = Issuer, ["sub"] = _user, ["aud"] = Service, ["exp"] = now + 300, ["nbf"] = now - 10, ["iat"] = now,
            ["jti"] = Guid.NewGuid().ToString("N"), ["access"] = access,
        };
        var signingInput = $"{Encode(header)}.{Encode(claims)}";
        var signature = _key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return $"{signingInput}.{Base64Url(signature)}";
    }

    private static string Encode(JsonObject value) => Base64Url(Encoding.UTF8.GetBytes(value.ToJsonString()));

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
