using Microsoft.ML.PTuning.Cli.Output;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Cli;

/// <summary>The progress bars' ETA, from work counts and a driven clock.</summary>
public sealed class EtaTests
{
    [Fact]
    public void EtaIsTheRateSinceTheFirstReportTimesTheWorkLeft()
    {
        var clock = new StepClock();
        var eta = new Eta(clock);
        clock.Advance(TimeSpan.FromSeconds(30)); // a base model loads before the first step

        // The first report has only the start to go by: 30 s for 10 steps, 90 steps left.
        Assert.Equal(TimeSpan.FromSeconds(270), eta.Remaining(10, 100));
        // Later ones go by the rate since the first report (the load excluded): 20 steps in 20 s, 70 left.
        clock.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(70), eta.Remaining(30, 100));
        Assert.Equal(TimeSpan.Zero, eta.Remaining(100, 100));
        Assert.Null(new Eta(clock).Remaining(0, 100)); // nothing done: no estimate
    }

    [Fact]
    public void EtaPrintsHoursMinutesSeconds()
    {
        Assert.Equal("0:01:05", Eta.Format(TimeSpan.FromSeconds(65)));
        Assert.Equal("26:00:00", Eta.Format(TimeSpan.FromHours(26)));
        Assert.Equal("?", Eta.Format(null));
    }

    private sealed class StepClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }
}
