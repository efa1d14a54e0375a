using Harmont.Aot.Cache;
using Harmont.Aot.Tuning;
using Harmont.Aot.Workspaces;
using static Harmont.Aot.Tests.Tuning.SyntheticRuns;

namespace Harmont.Aot.Tests.Tuning;

/// <summary>
/// Each tune rule on synthetic records: the evidence that triggers it gives the advice with its exact change,
/// and the same pipeline without that evidence gets none. A healthy pipeline gets no advice at all.
/// </summary>
[NotInParallel(nameof(TuneAdvisorTests))]
public sealed class TuneAdvisorTests
{
    private static readonly Dictionary<string, string> Tree = new(StringComparer.Ordinal)
    {
        ["Makefile"] = "m", ["src/a.c"] = "a", ["src/b.c"] = "b", ["docs/guide.md"] = "g", ["docs/api.md"] = "p",
    };

    private static TuneReport Advise(IEnumerable<RunRecord> runs, Dictionary<string, string>? files = null, IReadOnlyList<StrategyProbe>? work = null,
        IReadOnlyList<StrategyProbe>? cache = null, string? forced = null) =>
        TuneAdvisor.Advise("ci", new TuneInputs { Runs = [.. runs], Files = files ?? Tree, WorkDirProbes = work, CacheDirProbes = cache, ForcedStrategy = forced });

    // deps cached and hit after its first run; build re-runs when src changes and makes a new output each time; test is cheap.
    private static List<RunRecord> Healthy(int runs = 5) =>
    [
        .. Enumerable.Range(0, runs).Select(i => Run(i,
        [
            Step("deps", i == 0 ? "executed" : "hit", commandMs: 3000, policy: "forever()", persistMs: 20),
            Step("build", i % 2 == 0 ? "executed" : "hit", commandMs: 2000, policy: "on-change(src/**)", from: "deps", onChange: $"sha-{i / 2}",
                globs: ["src/**"], hashMs: 5, persistMs: 30, prepareMs: 10),
            Step("test", "executed", commandMs: 300, from: "build"),
        ], Machine(changed: i % 2 == 0 && i > 0 ? ["src/a.c"] : []))),
    ];

    [Test]
    public async Task A_healthy_pipeline_gets_no_advice()
    {
        var report = Advise(Healthy(), work: [new("reflink", true, "ok", TimeSpan.FromMilliseconds(1))]);

        await Assert.That(report.Advice).IsEmpty();
        await Assert.That(report.Runs).IsEqualTo(5);
    }

    [Test]
    public async Task An_expensive_step_without_a_policy_under_a_cached_parent_is_told_to_cache_forever()
    {
        var runs = Enumerable.Range(0, 4).Select(i => Run(i,
        [
            Step("deps", i == 0 ? "executed" : "hit", commandMs: 500, policy: "forever()"),
            Step("e2e", "executed", commandMs: 8000, from: "deps"),
        ]));

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Kind).IsEqualTo("uncached-expensive");
        await Assert.That(advice.Change).IsEqualTo("step 'e2e': add [CacheForever]");
        await Assert.That(advice.SavedMs).IsEqualTo(3 * 8000d); // The three runs whose parent hit.
        await Assert.That(advice.Evidence[0]).Contains("8.0 s");
    }

    [Test]
    public async Task An_expensive_root_without_a_policy_is_told_to_cache_on_its_files_and_its_saving_is_an_upper_bound()
    {
        var runs = Enumerable.Range(0, 3).Select(i => Run(i, [Step("generate", "executed", commandMs: 5000)]));

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Change).IsEqualTo("step 'generate': add [CacheOnChange(\"**\")], then narrow the glob to the files it reads");
        await Assert.That(advice.SavedMs).IsEqualTo(2 * 5000d);
        await Assert.That(advice.Evidence[1]).EndsWith("(no step tracks files, so this is at most what it would save)");
    }

    [Test]
    public async Task A_cheap_step_without_a_policy_gets_no_advice()
    {
        var runs = Enumerable.Range(0, 4).Select(i => Run(i,
        [
            Step("deps", i == 0 ? "executed" : "hit", commandMs: 500, policy: "forever()"),
            Step("e2e", "executed", commandMs: 400, from: "deps"),
        ]));

        await Assert.That(Advise(runs).Advice).IsEmpty();
    }

    [Test]
    public async Task An_onchange_whose_docs_edits_left_the_output_identical_is_narrowed_to_the_rest()
    {
        RunRecord[] runs =
        [
            Run(0, [Step("build", "executed", commandMs: 4000, policy: "on-change(**)", onChange: "sha-1", globs: ["**"], digest: "tree:same")]),
            Run(1, [Step("build", "executed", commandMs: 4000, policy: "on-change(**)", onChange: "sha-2", globs: ["**"], digest: "tree:same")], Machine(changed: ["docs/guide.md"])),
            Run(2, [Step("build", "executed", commandMs: 4000, policy: "on-change(**)", onChange: "sha-3", globs: ["**"], digest: "tree:other")], Machine(changed: ["src/a.c"])),
        ];

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Kind).IsEqualTo("onchange-too-broad");
        await Assert.That(advice.Change).IsEqualTo("step 'build': [CacheOnChange(\"**\")] -> [CacheOnChange(\"Makefile\", \"src/**\")]");
        await Assert.That(advice.SavedMs).IsEqualTo(4001d);
        await Assert.That(advice.Evidence[0]).Contains("docs/**");
        await Assert.That(advice.Evidence[1]).Contains("docs/guide.md");
    }

    [Test]
    public async Task An_onchange_whose_every_matched_edit_changed_the_output_gets_no_advice()
    {
        RunRecord[] runs =
        [
            Run(0, [Step("build", "executed", commandMs: 4000, policy: "on-change(**)", onChange: "sha-1", globs: ["**"], digest: "tree:one")]),
            Run(1, [Step("build", "executed", commandMs: 4000, policy: "on-change(**)", onChange: "sha-2", globs: ["**"], digest: "tree:two")], Machine(changed: ["docs/guide.md"])),
        ];

        await Assert.That(Advise(runs).Advice).IsEmpty();
    }

    [Test]
    public async Task A_leaf_whose_caching_costs_more_than_its_command_is_told_to_drop_the_policy()
    {
        var runs = Enumerable.Range(0, 3).Select(i =>
            Run(i, [Step("lint", "executed", commandMs: 50, policy: "ttl(1h)", onChange: $"ttl-{i}", persistMs: 400, hashMs: 10)]));

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Kind).IsEqualTo("cache-costs-more");
        await Assert.That(advice.Change).IsEqualTo("step 'lint': remove its cache attributes (ttl(1h))");
        await Assert.That(advice.SavedMs).IsEqualTo(3 * 411d);
    }

    [Test]
    public async Task A_step_whose_command_outweighs_its_caching_keeps_its_policy()
    {
        var runs = Enumerable.Range(0, 3).Select(i =>
            Run(i, [Step("lint", "executed", commandMs: 2000, policy: "ttl(1h)", onChange: $"ttl-{i}", persistMs: 40, hashMs: 10)]));

        await Assert.That(Advise(runs).Advice).IsEmpty();
    }

    [Test]
    public async Task Entries_evicted_and_needed_again_propose_a_bound_that_holds_them()
    {
        const long entry = 300L << 20;
        var missed = new List<string> { "its inputs are unchanged since the last run, but its entry is gone (evicted, pruned, cleaned, or its image was deleted)" };
        RunRecord[] runs =
        [
            Run(0, [Step("deps", "executed", commandMs: 6000, policy: "forever()", bytes: entry)], Machine(maxBytes: 256L << 20)),
            Run(1, [Step("deps", "hit", policy: "forever()")], Machine(maxBytes: 256L << 20)),
            Run(2, [Step("deps", "executed", commandMs: 6000, policy: "forever()", bytes: entry, miss: missed)], Machine(maxBytes: 256L << 20)),
        ];

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Kind).IsEqualTo("bound-too-small");
        await Assert.That(advice.Change).IsEqualTo("set HARMONT_CACHE_MAX_SIZE=640MiB (it was 256MiB)");
        await Assert.That(advice.SavedMs).IsEqualTo(6001d);
    }

    [Test]
    public async Task An_entry_missed_again_under_a_bound_that_held_it_gets_no_bound_advice()
    {
        RunRecord[] runs =
        [
            Run(0, [Step("deps", "executed", commandMs: 6000, policy: "forever()", bytes: 300L << 20)]),
            Run(1, [Step("deps", "executed", commandMs: 6000, policy: "forever()", bytes: 300L << 20)]), // A 'cache clean' between: not the bound.
        ];

        await Assert.That(Advise(runs).Advice).IsEmpty();
    }

    [Test]
    public async Task A_work_dir_off_the_cache_filesystem_is_told_to_move_with_the_measured_difference()
    {
        var runs = Enumerable.Range(0, 2).Select(i => Run(i,
            [Step("build", "executed", policy: "on-change(src/**)", onChange: $"sha-{i}", globs: ["src/**"], commandMs: 2000, prepareMs: 1500, persistMs: 500)],
            Machine(strategy: "copy", same: false)));

        var advice = Advise(
            runs,
            work: [new("copy", true, "ok", TimeSpan.FromMilliseconds(10))],
            cache: [new("reflink", true, "ok", TimeSpan.FromMilliseconds(1)), new("copy", true, "ok", TimeSpan.FromMilliseconds(10))]).Advice.Single();

        await Assert.That(advice.Kind).IsEqualTo("workspace-strategy");
        await Assert.That(advice.Change).IsEqualTo("move the work dir onto the cache dir's filesystem: HARMONT_WORK_DIR=/cache/work");
        await Assert.That(advice.SavedMs).IsEqualTo(3600d); // 4 s of workspaces and persisting, a tenth of it left.
        await Assert.That(advice.Evidence[2]).Contains("reflink 1.00 ms");
    }

    [Test]
    public async Task A_forced_copy_where_reflink_measures_faster_is_told_to_unset_it()
    {
        var runs = Enumerable.Range(0, 2).Select(i => Run(i,
            [Step("build", "executed", commandMs: 1000, policy: "on-change(src/**)", onChange: $"sha-{i}", globs: ["src/**"], prepareMs: 500, persistMs: 500)],
            Machine(strategy: "copy")));

        var advice = Advise(runs, work: [new("reflink", true, "ok", TimeSpan.FromMilliseconds(2)), new("copy", true, "ok", TimeSpan.FromMilliseconds(8))], forced: "copy")
            .Advice.Single();

        await Assert.That(advice.Change).IsEqualTo("HARMONT_WORKSPACE_STRATEGY=copy forces copy: unset it, or set it to reflink");
        await Assert.That(advice.SavedMs).IsEqualTo(1500d);
    }

    [Test]
    public async Task Steps_queued_for_slots_while_cores_idled_propose_more_jobs()
    {
        var runs = Enumerable.Range(0, 3).Select(i => Run(i,
        [
            Step("a", "executed", commandMs: 900, began: 0),
            Step("b", "executed", commandMs: 900, began: 0, queueMs: 900),
            Step("c", "executed", commandMs: 900, began: 0, queueMs: 1800),
        ], Machine(jobs: 1, cores: 4)));

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Kind).IsEqualTo("parallelism");
        await Assert.That(advice.Change).IsEqualTo("run with -j 3 (it was -j 1; this machine has 4 cores)");
        await Assert.That(advice.SavedMs).IsEqualTo(3 * 1800d);
    }

    [Test]
    public async Task Commands_slowed_by_more_jobs_than_cores_propose_fewer()
    {
        // Alone, 'a' takes 0.6 s; run beside three others on two cores, 4 s.
        RunRecord[] runs =
        [
            Run(0, [Step("a", "executed", commandMs: 600)], Machine(jobs: 8, cores: 2)),
            Run(1, [Step("a", "executed", commandMs: 4000), Step("b", "executed", commandMs: 4000), Step("c", "executed", commandMs: 4000), Step("d", "executed", commandMs: 4000)],
                Machine(jobs: 8, cores: 2)),
        ];

        var advice = Advise(runs).Advice.Single();

        await Assert.That(advice.Change).IsEqualTo("run with -j 2 (it was -j 8; this machine has 2 cores)");
        await Assert.That(advice.SavedMs).IsEqualTo(3400d);
    }

    [Test]
    public async Task Stats_count_hits_saved_time_and_the_critical_path()
    {
        var report = RunStats.Compute("ci", Healthy());
        var deps = report.Steps.Single(s => s.Step == "deps");
        var test = report.Steps.Single(s => s.Step == "test");

        await Assert.That(deps.Runs).IsEqualTo(5);
        await Assert.That(deps.HitRate).IsEqualTo(0.8);
        await Assert.That(deps.SavedMs).IsEqualTo(4 * 3020d);
        await Assert.That(test.HitRate).IsNull();
        await Assert.That(report.Totals.CriticalPath).IsEquivalentTo((IEnumerable<string>)["deps", "build", "test"], TUnit.Assertions.Enums.CollectionOrdering.Matching);
        await Assert.That(report.Totals.CriticalPathMs).IsEqualTo(1 + 2046 + 301d);
    }
}
