using System.Net.Http.Headers;
using System.Text.Json;

namespace Harmont.Aot.Cache.Remote;

// The WWW-Authenticate challenge: a bearer token from the realm the registry names, or basic auth.
internal sealed partial class RegistryClient
{
    private const int MaxTokenReply = 64 * 1024;

    /// <summary>The credential this client uses (read once), for handing to the engine that pulls and pushes images.</summary>
    public async Task<RegistryCredential?> CredentialAsync(CancellationToken cancellationToken)
    {
        await _authGate.WaitAsync(cancellationToken);
        try
        {
            if (!_credentialRead)
            {
                _credential = await _credentials.ForHostAsync(_setting.Host, cancellationToken);
                _credentialRead = true;
            }

            return _credential;
        }
        finally
        {
            _authGate.Release();
        }
    }

    // Whether the challenge was answered, so the request is worth sending again.
    private async Task<bool> AnswerChallengeAsync(IReadOnlyList<AuthenticationHeaderValue> challenges, string scope, CancellationToken cancellationToken)
    {
        await _authGate.WaitAsync(cancellationToken);
        try
        {
            if (!_credentialRead)
            {
                _credential = await _credentials.ForHostAsync(_setting.Host, cancellationToken);
                _credentialRead = true;
            }

            if (challenges.FirstOrDefault(c => c.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)) is { } bearer)
            {
                var parameters = ParseParameters(bearer.Parameter ?? "");
                if (!parameters.TryGetValue("realm", out var realm))
                {
                    throw new RegistryException($"the registry {_setting.Host} asked for a bearer token without naming its realm");
                }

                _tokens[scope] = await FetchTokenAsync(realm, parameters.GetValueOrDefault("service"), scope, cancellationToken);
                return true;
            }

            if (challenges.Any(c => c.Scheme.Equals("Basic", StringComparison.OrdinalIgnoreCase)) && _credential is { IsIdentityToken: false })
            {
                var answered = !_basic;
                _basic = true;
                return answered;
            }

            return false;
        }
        finally
        {
            _authGate.Release();
        }
    }

    // Docker's token spec: GET realm?service&scope with basic auth, or (an identity token) OAuth2's refresh grant.
    private async Task<string> FetchTokenAsync(string realm, string? service, string scope, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(realm, UriKind.Absolute, out var realmUri) || !(realmUri.Scheme == Uri.UriSchemeHttps || (realmUri.Scheme == Uri.UriSchemeHttp && _setting.PlainHttp)))
        {
            // A credential goes only over TLS, unless the registry itself was asked to be spoken to in the clear.
            throw new RegistryException($"the registry {_setting.Host} named a token realm that is not an https address; it was not sent a credential");
        }

        var credential = _credential;
        HttpRequestMessage Make()
        {
            if (credential is { IsIdentityToken: true })
            {
                var form = new Dictionary<string, string>
                {
                    ["grant_type"] = "refresh_token",
                    ["refresh_token"] = credential.Password,
                    ["client_id"] = "harmont-aot",
                    ["scope"] = scope,
                };
                if (service is not null)
                {
                    form["service"] = service;
                }

                return new HttpRequestMessage(HttpMethod.Post, realmUri) { Content = new FormUrlEncodedContent(form) };
            }

            var query = string.Join('&', scope.Split(' ').Select(s => $"scope={Uri.EscapeDataString(s)}")) + (service is null ? "" : $"&service={Uri.EscapeDataString(service)}");
            var request = new HttpRequestMessage(HttpMethod.Get, new UriBuilder(realmUri) { Query = query }.Uri);
            if (credential is not null)
            {
                request.Headers.Authorization = new AuthenticationHeaderValue("Basic", credential.BasicHeader);
            }

            return request;
        }

        using var tokenRequest = Make();
        using var response = await TimedAsync(ct => _http.SendAsync(tokenRequest, HttpCompletionOption.ResponseHeadersRead, ct), "the token request", cancellationToken);
        await EnsureAsync(response, "a token (check the credential)", cancellationToken);
        var body = await ReadSmallAsync(response, MaxTokenReply, "a token", cancellationToken);
        TokenReply? reply;
        try
        {
            reply = JsonSerializer.Deserialize(body, RegistryJsonContext.Default.TokenReply);
        }
        catch (JsonException)
        {
            reply = null;
        }

        var token = reply?.Token is { Length: > 0 } given ? given : reply?.AccessToken;
        return token is { Length: > 0 } && token.All(c => c > ' ' && c < 127)
            ? token
            : throw new RegistryException($"the token realm of {_setting.Host} sent no usable token");
    }

    /// <summary>The <c>key="value"</c> pairs of a challenge; a quoted value may hold commas (<c>scope="…:pull,push"</c>).</summary>
    internal static Dictionary<string, string> ParseParameters(string text)
    {
        var parameters = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ',' || char.IsWhiteSpace(text[i])))
            {
                i++;
            }

            var eq = text.IndexOf('=', i);
            if (eq < 0)
            {
                break;
            }

            var name = text[i..eq].Trim();
            i = eq + 1;
            string value;
            if (i < text.Length && text[i] == '"')
            {
                var builder = new System.Text.StringBuilder();
                for (i++; i < text.Length && text[i] != '"'; i++)
                {
                    builder.Append(text[i] == '\\' && i + 1 < text.Length ? text[++i] : text[i]);
                }

                i++;
                value = builder.ToString();
            }
            else
            {
                var end = text.IndexOf(',', i);
                end = end < 0 ? text.Length : end;
                value = text[i..end].Trim();
                i = end;
            }

            parameters[name] = value;
        }

        return parameters;
    }
}
