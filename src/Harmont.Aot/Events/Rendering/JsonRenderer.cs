using System.Text.Encodings.Web;
using System.Text.Json;

namespace Harmont.Aot.Events;

/// <summary>
/// <c>--format json</c>: every event as one JSON object per line (NDJSON) on stdout, and nothing else
/// there. The schema is documented in README.md ("Events"); field names are snake_case and stable.
/// </summary>
internal sealed class JsonRenderer(TextWriter output) : IRunEventSink
{
    private static readonly JsonWriterOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Lock _gate = new();

    public void Publish(RunEvent runEvent)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, Options))
        {
            json.WriteStartObject();
            Write(json, runEvent);
            json.WriteEndObject();
        }

        var line = System.Text.Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
        lock (_gate)
        {
            output.WriteLine(line);
            output.Flush();
        }
    }

    private static void Write(Utf8JsonWriter json, RunEvent runEvent)
    {
        switch (runEvent)
        {
            case BuildStarted e:
                Head(json, "build_start", e);
                json.WriteString("pipeline", e.Pipeline);
                json.WriteString("run", e.RunId);
                json.WriteStartArray("steps");
                foreach (var step in e.Steps)
                {
                    json.WriteStringValue(step);
                }

                json.WriteEndArray();
                break;
            case StepQueued e:
                Head(json, "step_queued", e);
                json.WriteString("step", e.Step);
                break;
            case StepStarted e:
                Head(json, "step_start", e);
                json.WriteString("step", e.Step);
                json.WriteString("backend", e.Backend);
                break;
            case StepCacheHit e:
                Head(json, "step_cache_hit", e);
                json.WriteString("step", e.Step);
                json.WriteString("key", e.Key);
                break;
            case StepLog e:
                Head(json, "step_log", e);
                json.WriteString("step", e.Step);
                json.WriteString("stream", e.IsError ? "stderr" : "stdout");
                json.WriteString("line", e.Line);
                break;
            case StepFinished e:
                Head(json, "step_end", e);
                json.WriteString("step", e.Step);
                json.WriteString("status", Status(e.Status));
                WriteExitCode(json, e.ExitCode);
                json.WriteNumber("duration_ms", (long)e.Duration.TotalMilliseconds);
                if (e.Reason is not null)
                {
                    json.WriteString("reason", e.Reason);
                }

                break;
            case StepFailure e:
                Head(json, "failure", e);
                json.WriteString("step", e.Step);
                json.WriteString("status", Status(e.Status));
                WriteExitCode(json, e.ExitCode);
                json.WriteString("message", e.Message);
                break;
            case BuildFinished e:
                Head(json, "build_end", e);
                json.WriteString("pipeline", e.Pipeline);
                json.WriteNumber("exit_code", e.ExitCode);
                json.WriteNumber("duration_ms", (long)e.Duration.TotalMilliseconds);
                break;
            default:
                Head(json, "unknown", runEvent);
                break;
        }
    }

    private static void Head(Utf8JsonWriter json, string type, RunEvent runEvent)
    {
        json.WriteString("event", type);
        json.WriteString("at", runEvent.At.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture));
    }

    private static void WriteExitCode(Utf8JsonWriter json, int? exitCode)
    {
        if (exitCode is { } code)
        {
            json.WriteNumber("exit_code", code);
        }
        else
        {
            json.WriteNull("exit_code");
        }
    }

    private static string Status(StepStatus status) => status switch
    {
        StepStatus.TimedOut => "timed_out",
        _ => status.ToString().ToLowerInvariant(),
    };
}
