using Harmont.Aot.Tuning;

namespace Harmont.Aot.Tests.Tunables;

/// <summary>How measured timings become a setting, on made-up timings: the rule, not this machine's speed.</summary>
[NotInParallel(nameof(TunableChoiceTests))]
public sealed class TunableChoiceTests
{
    [Test]
    public async Task The_default_stays_when_it_is_within_ten_percent_of_the_fastest()
    {
        var choice = TunableChoice.Pick([Candidate(1, 100), Candidate(2, 60), Candidate(4, 57), Candidate(8, 53)], current: 4);

        await Assert.That(choice.Value).IsEqualTo(4);
        await Assert.That(choice.Why).IsEqualTo("the default is within 10% of the fastest, 8");
    }

    [Test]
    public async Task A_default_that_is_the_fastest_says_so()
    {
        var choice = TunableChoice.Pick([Candidate(1, 100), Candidate(4, 40), Candidate(8, 41)], current: 4);

        await Assert.That(choice).IsEqualTo(new Choice(4, "the default is the fastest"));
    }

    [Test]
    public async Task A_slow_default_gives_way_to_the_fastest()
    {
        var choice = TunableChoice.Pick([Candidate(1, 100), Candidate(2, 50), Candidate(4, 70), Candidate(8, 60)], current: 4);

        await Assert.That(choice).IsEqualTo(new Choice(2, "the fastest"));
    }

    [Test]
    public async Task A_slow_default_gives_way_to_the_cheapest_value_near_the_fastest()
    {
        // 2 is 8% slower than 8: within the noise, and it takes a quarter of the threads.
        var choice = TunableChoice.Pick([Candidate(1, 100), Candidate(2, 54), Candidate(4, 70), Candidate(8, 50)], current: 4);

        await Assert.That(choice).IsEqualTo(new Choice(2, "the cheapest within 10% of the fastest, 8"));
    }

    [Test]
    public async Task The_cheapest_is_the_first_in_the_order_given()
    {
        // Batches are listed biggest first: fewer work items are the cheaper side.
        var choice = TunableChoice.Pick([Candidate(1024, 52), Candidate(256, 50), Candidate(64, 70), Candidate(16, 51)], current: 64);

        await Assert.That(choice).IsEqualTo(new Choice(1024, "the cheapest within 10% of the fastest, 256"));
    }

    [Test]
    public async Task One_slow_round_does_not_move_the_choice()
    {
        var choice = TunableChoice.Pick([Candidate(2, 50, 50), Candidate(4, 45, 900, 46)], current: 2);

        await Assert.That(choice).IsEqualTo(new Choice(2, "the default is within 10% of the fastest, 4"));
    }

    [Test]
    public async Task The_reason_names_the_fastest_value_in_the_tunable_s_own_unit()
    {
        var choice = TunableChoice.Pick([Candidate(16 << 10, 30), Candidate(128 << 10, 31), Candidate(1 << 20, 29)], current: 128 << 10, DiskBench.Size);

        await Assert.That(choice).IsEqualTo(new Choice(128 << 10, "the default is within 10% of the fastest, 1 MiB"));
    }

    [Test]
    public async Task An_unmeasured_default_yields_to_the_cheapest_near_the_fastest()
    {
        var choice = TunableChoice.Pick([Candidate(1, 100), Candidate(2, 52), Candidate(8, 50)], current: 32);

        await Assert.That(choice).IsEqualTo(new Choice(2, "the cheapest within 10% of the fastest, 8"));
    }

    [Test]
    public async Task Nothing_measured_keeps_the_default()
    {
        var choice = TunableChoice.Pick([new Measured(1, []), new Measured(2, [])], current: 4);

        await Assert.That(choice).IsEqualTo(new Choice(4, "nothing measured: keep the default"));
    }

    [Test]
    public async Task The_memo_stays_on_when_a_rerun_with_it_is_faster()
    {
        var choice = TunableChoice.PickMemo(Times(5, 6, 5), Times(50, 48, 52));

        await Assert.That(choice).IsEqualTo(new Choice(1, "a re-run with the memo takes 10% of one without"));
    }

    [Test]
    public async Task The_memo_goes_off_when_a_rerun_with_it_is_no_faster()
    {
        var choice = TunableChoice.PickMemo(Times(48, 47, 49), Times(50, 51, 50));

        await Assert.That(choice).IsEqualTo(new Choice(0, "a re-run with the memo is no faster than hashing every file"));
    }

    [Test]
    public async Task The_median_of_an_even_count_is_the_mean_of_the_middle_two()
    {
        await Assert.That(TunableChoice.Median(Times(40, 10, 20, 1000))).IsEqualTo(TimeSpan.FromMilliseconds(30));
        await Assert.That(TunableChoice.Median(Times(7))).IsEqualTo(TimeSpan.FromMilliseconds(7));
    }

    [Test]
    public async Task Sizes_read_in_the_largest_whole_unit()
    {
        await Assert.That(DiskBench.Size(16 << 10)).IsEqualTo("16 KiB");
        await Assert.That(DiskBench.Size(1 << 20)).IsEqualTo("1 MiB");
        await Assert.That(DiskBench.Size(1536)).IsEqualTo("1536 B");
    }

    private static Measured Candidate(int value, params double[] milliseconds) => new(value, Times(milliseconds));

    private static TimeSpan[] Times(params double[] milliseconds) => [.. milliseconds.Select(TimeSpan.FromMilliseconds)];
}
