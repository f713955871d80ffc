using System.Diagnostics;
using System.Text.Json;
using Rpyc.Profiling.Wire;
using static Rpyc.Telemetry.Tests.RawFrames;

namespace Rpyc.Telemetry.Tests;

/// <summary>
/// The relay's own time per round trip covers every round trip, not only the MaxRecords calls kept
/// for the timelines. The recorder is fed frames and forwarding times the test chooses (the relay's
/// pumps pass it what the clock said), so the expected figures are known exactly.
/// </summary>
public sealed class WireRelayTimeTests
{
    [Fact]
    public void Histogram_NoSample_AllZero()
    {
        var histogram = new TickHistogram();
        Assert.Equal((0L, 0L, 0L), (histogram.Count, histogram.Sum, histogram.Max));
        Assert.Equal(0, histogram.ValueAtRank(0));
    }

    [Fact]
    public void Histogram_OneSample_ItsValueWithinTheResolution()
    {
        var histogram = new TickHistogram();
        histogram.Add(1_000_003);
        Assert.Equal((1L, 1_000_003L, 1_000_003L), (histogram.Count, histogram.Sum, histogram.Max));
        AssertWithinResolution(1_000_003, histogram.ValueAtRank(0));
    }

    [Fact]
    public void Histogram_TwoSamples_LowerMedianExactBelow64Ticks()
    {
        var histogram = new TickHistogram();
        histogram.Add(5_000);
        histogram.Add(63);
        Assert.Equal(63, histogram.ValueAtRank((histogram.Count - 1) / 2));
        AssertWithinResolution(5_000, histogram.ValueAtRank(1));
        Assert.Equal(5_000, histogram.Max);
    }

    [Theory]
    [InlineData(0L)]
    [InlineData(64L)]
    [InlineData(127L)]
    [InlineData(12_345L)]
    [InlineData(987_654_321L)]
    [InlineData(1L << 40)]
    [InlineData((1L << 40) - 1)]
    [InlineData(long.MaxValue)]
    public void Histogram_AnyValue_WithinTheResolutionAndAtMostTheMax(long value)
    {
        // A second value above the first one's bucket keeps the max from clamping its estimate.
        var histogram = new TickHistogram();
        histogram.Add(value);
        if (value < long.MaxValue / 4)
        {
            histogram.Add((2 * value) + 64);
        }
        long estimate = histogram.ValueAtRank(0);
        AssertWithinResolution(value, estimate);
        Assert.True(estimate <= histogram.Max);
    }

    [Fact]
    public void Histogram_EveryBucket_BoundsMatchTheValuesItHolds()
    {
        for (int bucket = 0; bucket <= TickHistogram.BucketOf(long.MaxValue); bucket++)
        {
            (long low, long width) = TickHistogram.Bounds(bucket);
            Assert.Equal(bucket, TickHistogram.BucketOf(low));
            Assert.Equal(bucket, TickHistogram.BucketOf(low + (width - 1)));
        }
    }

    [Fact]
    public void Snapshot_MoreRoundTripsThanMaxRecords_RelayFiguresCoverThemAll()
    {
        const int RoundTrips = 101;
        var recorder = new WireRecorder(new RpycWireProxyOptions { MaxRecords = 5 });
        WireRecorder.ConnectionState connection = recorder.Open("127.0.0.1:1");
        // Round trip i costs the relay 1000·i ticks: 100 forwarding the request, the rest the reply.
        // The first five alone would say 3,000 median and 5,000 max.
        for (int i = 1; i <= RoundTrips; i++)
        {
            recorder.OnData(connection, WireDirection.ClientToServer, GetRootRequest(i), 10L * i);
            recorder.OnForwarded(connection, WireDirection.ClientToServer, 100);
            recorder.OnData(connection, WireDirection.ServerToClient, Reply(i), (10L * i) + 5);
            recorder.OnForwarded(connection, WireDirection.ServerToClient, (1000L * i) - 100);
        }

        WireProfile profile = recorder.Snapshot("127.0.0.1:0", "127.0.0.1:1");
        Assert.Equal((5, 96L), (profile.Calls.Count, profile.CallsDropped));
        Assert.Equal(RoundTrips, profile.RoundTrips);
        Assert.Equal(RoundTrips, profile.RelayTimeRoundTrips);
        Assert.Equal(Stopwatch.GetElapsedTime(0, 101_000), profile.RelayTimeMax);
        Assert.Equal(Stopwatch.GetElapsedTime(0, 51_000), profile.RelayTimeMean);
        double median = profile.RelayTimeP50.TotalSeconds * Stopwatch.Frequency;
        Assert.True(Math.Abs(median - 51_000) <= (51_000 * TickHistogram.Resolution) + 1, $"median {median} ticks, 51000 expected");

        string text = WireProfileReport.FormatText(profile);
        Assert.Contains(" max over 101 round trips (", text, StringComparison.Ordinal);
        Assert.Contains("Calls Not Kept:             96 (over the 5 kept: not in the timelines or the advice; in every count, total and relay time above)", text, StringComparison.Ordinal);
        using var json = new MemoryStream();
        WireProfileReport.WriteJson(profile, json);
        using var document = JsonDocument.Parse(json.ToArray());
        Assert.Equal(RoundTrips, document.RootElement.GetProperty("relay_time_round_trips").GetInt64());
        Assert.Equal(profile.RelayTimeMax.TotalSeconds, document.RootElement.GetProperty("relay_time_per_round_trip_max_s").GetDouble());
    }

    private static void AssertWithinResolution(long expected, long actual) =>
        Assert.True(Math.Abs((double)actual - expected) <= expected * TickHistogram.Resolution, $"{actual} is not within {TickHistogram.Resolution:P1} of {expected}");
}
