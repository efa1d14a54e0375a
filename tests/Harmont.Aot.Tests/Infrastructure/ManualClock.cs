namespace Harmont.Aot.Tests;

/// <summary>A clock that stands still until a test moves it (ttl buckets, cache ages, last use).</summary>
public sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;

    public void Advance(TimeSpan by) => Now += by;
}
