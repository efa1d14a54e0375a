namespace Harmont.Aot.Workspaces;

/// <summary>What probing one strategy on one filesystem found.</summary>
/// <param name="Name">The strategy's name.</param>
/// <param name="Available">Whether <c>run</c> could use it there.</param>
/// <param name="Reason">Why, in words a user can act on.</param>
/// <param name="PrepareTime">Time to prepare one workspace from the small probe tree, when measured.</param>
internal sealed record StrategyProbe(string Name, bool Available, string Reason, TimeSpan? PrepareTime = null);
