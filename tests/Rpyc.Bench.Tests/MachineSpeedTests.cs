namespace Rpyc.Bench.Tests;

// The machine-speed probe: the probe itself, the report's note, its JSON, and compare's warning.
public class MachineSpeedTests
{
    private static BenchmarkReport WithProbes(params SpeedProbe[] probes)
    {
        BenchmarkReport sample = ReporterTests.Sample();
        RunMetadata m = sample.Metadata;
        return new BenchmarkReport
        {
            Metadata = new RunMetadata
            {
                ToolVersion = m.ToolVersion, StartTime = m.StartTime, Seconds = m.Seconds, Machine = m.Machine, OperatingSystem = m.OperatingSystem,
                CpuModel = m.CpuModel, ProcessorCount = m.ProcessorCount, MemoryBytes = m.MemoryBytes, Runtime = m.Runtime,
                PeerVersions = m.PeerVersions, Parameters = m.Parameters, SpeedProbes = probes,
            },
            Targets = sample.Targets,
        };
    }

    [Fact]
    public void Probe_FixedWork_PositiveAndOfOneMagnitude()
    {
        double first = MachineSpeed.ProbeMicroseconds()!.Value;
        double second = MachineSpeed.ProbeMicroseconds()!.Value;
        Assert.True(first > 0 && double.IsFinite(first));
        // The same work: a busy machine may slow one probe, not by ten times the other.
        Assert.InRange(second / first, 0.1, 10);
    }

    [Fact]
    public void LoopbackProbe_RoundTripsOverTcp_AndLeavesTheCallersCpusAsTheyWere()
    {
        ulong[] before = CpuAffinity.TryGet(0)!;
        double first = MachineSpeed.LoopbackRoundTripMicroseconds()!.Value;
        double second = MachineSpeed.LoopbackRoundTripMicroseconds()!.Value;
        Assert.Equal(before, CpuAffinity.TryGet(0));
        // Two system calls and a wake-up each way: more than a microsecond, less than a tick.
        Assert.InRange(first, 1, 10_000);
        Assert.InRange(second / first, 0.1, 10);
    }

    [Fact]
    public void LoopbackProbe_CallerOnOneCpu_StillMeasures_AndKeepsThatCpu()
    {
        ulong[] before = CpuAffinity.TryGet(0)!;
        int last = CpuAffinity.Cpus(before)[^1];
        Exception? failure = null;
        var thread = new Thread(() =>
        {
            try
            {
                // As under --pin: the client's threads on one CPU.
                Assert.Equal(0, CpuAffinity.Set(0, CpuAffinity.Only(last)));
                Assert.True(MachineSpeed.LoopbackRoundTripMicroseconds() > 0);
                Assert.Equal([last], CpuAffinity.Cpus(CpuAffinity.TryGet(0)!));
            }
            catch (Exception ex)
            {
                failure = ex;
            }
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));
        Assert.Null(failure);
    }

    [Fact]
    public void TransferProbe_EveryCpuMeasured_CallersCpusKept()
    {
        ulong[] before = CpuAffinity.TryGet(0)!;
        IReadOnlyList<double?> byCpu = MachineSpeed.TransferByCpu()!;
        Assert.Equal(before, CpuAffinity.TryGet(0));
        Assert.Equal(Environment.ProcessorCount, byCpu.Count);
        // Two system calls and the kernel's TCP per byte: more than 0.1 µs, far less than a tick.
        Assert.All(byCpu, v => Assert.InRange(v!.Value, 0.1, 1_000));
        double mean = MachineSpeed.TransferMicroseconds()!.Value;
        Assert.InRange(mean / byCpu.Average()!.Value, 0.1, 10);
        // A caller on one CPU (as under --pin) still has every CPU measured, and keeps its one CPU.
        int last = CpuAffinity.Cpus(before)[^1];
        IReadOnlyList<double?>? pinned = null;
        var thread = new Thread(() =>
        {
            CpuAffinity.Set(0, CpuAffinity.Only(last));
            pinned = MachineSpeed.TransferByCpu();
            Assert.Equal([last], CpuAffinity.Cpus(CpuAffinity.TryGet(0)!));
        });
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(10)));
        Assert.Equal(Environment.ProcessorCount, pinned!.OfType<double>().Count());
    }

    [Fact]
    public void Note_CpusApart_NamesEachCpu_AndJsonHasTheirMedians()
    {
        BenchmarkReport apart = WithProbes(
            new("a", 1, 700, 30, 5.6, [4.6, 6.6]), new("b", 1, 700, 30, 5.7, [4.6, 6.8]), new("c", 1, 700, 30, 5.8, [4.8, 6.8]));
        Assert.Equal([4.6, 6.8], SummaryTables.TransferByCpu(apart.Metadata.SpeedProbes));
        string note = Assert.Single(SummaryTables.Notes(apart), n => n.Contains("different speeds", StringComparison.Ordinal));
        Assert.Contains("4.60 µs of CPU on CPU 0, 6.80 µs of CPU on CPU 1", note, StringComparison.Ordinal);
        string json = JsonReporter.Render(apart);
        using System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal([4.6e-6, 6.8e-6], doc.RootElement.GetProperty("metadata").GetProperty("machine_speed").GetProperty("transfer").GetProperty("by_cpu_median_seconds").EnumerateArray().Select(e => Math.Round(e.GetDouble(), 12)));
        Assert.Equal([4.8, 6.8], ReportReader.Parse(json).Metadata.SpeedProbes[2].TransferByCpuMicroseconds!.Select(v => Math.Round(v!.Value, 6)));
        BenchmarkReport close = WithProbes(new SpeedProbe("a", 1, 700, 30, 5.0, [4.8, 5.2]));
        Assert.DoesNotContain(SummaryTables.Notes(close), n => n.Contains("different speeds", StringComparison.Ordinal));
    }

    [Fact]
    public void SlowCpuRuns_TargetsTableNamesTheRunsThatBeganWithACpuOver125PercentOfTheCheapest()
    {
        // The cheapest CPU anywhere: 4.6 µs; slow beyond 5.75.
        BenchmarkReport report = WithProbes(
            new("rpyc_threaded", 1, 700, 30, 5.6, [4.6, 6.6]), new("tcp_raw", 1, 700, 30, 4.7, [4.7, 4.7]),
            new("rpyc_threaded", 2, 700, 30, 4.8, [4.8, 5.7]), new("tcp_raw", 2, 700, 30, 5.8, [6.9, 4.7]),
            new("rpyc_threaded", 3, 700, 30, 5.6, [6.1, 4.7]), new("tcp_raw", 3, 700, 30, 4.7, [4.6, 4.8]));
        Assert.Equal([1, 3], SummaryTables.SlowCpuRuns(report.Metadata.SpeedProbes, "rpyc_threaded"));
        Assert.Equal([2], SummaryTables.SlowCpuRuns(report.Metadata.SpeedProbes, "tcp_raw"));
        Assert.Null(SummaryTables.SlowCpuRuns(report.Metadata.SpeedProbes, "http_threaded"));
        Assert.Equal("1, 3", TargetsCell(report, "rpyc_threaded"));
        Assert.Equal("2", string.Join(", ", SummaryTables.SlowCpuRuns(report.Metadata.SpeedProbes, "tcp_raw")!));
        Assert.Null(SummaryTables.SlowCpuRuns(WithProbes(new SpeedProbe("rpyc_threaded", 1, 700, 30)).Metadata.SpeedProbes, "rpyc_threaded"));
        // Probes without per-CPU figures (an older report): no claim either way; all CPUs fast: none.
        Assert.Equal("-", TargetsCell(WithProbes(new SpeedProbe("rpyc_threaded", 1, 700, 30)), "rpyc_threaded"));
        Assert.Equal("none", TargetsCell(WithProbes(new("rpyc_threaded", 1, 700, 30, 4.7, [4.6, 4.9]), new("tcp_raw", 1, 700, 30, 4.7, [4.7, 4.7])), "rpyc_threaded"));
    }

    private static string TargetsCell(BenchmarkReport report, string target)
    {
        SummaryTable targets = SummaryTables.Build(report).First(t => t.Title == "Targets");
        IReadOnlyList<string> row = targets.Rows.Single(r => r[0] == "runs begun with a CPU slow");
        return row[targets.Columns.ToList().IndexOf(target)];
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(17)]
    [InlineData(16_384)]
    public void HeapSort_SortsLikeArraySort(int length)
    {
        var random = new Random(length);
        int[] values = [.. Enumerable.Range(0, length).Select(_ => random.Next(int.MinValue, int.MaxValue))];
        if (length > 2)
        {
            values[1] = values[0]; // a repeated value
        }
        int[] expected = [.. values.Order()];
        MachineSpeed.HeapSort(values);
        Assert.Equal(expected, values);
    }

    [Fact]
    public void Note_RunMediansApart_SaysSo_OneSlowProbeDoesNot()
    {
        // Run 1's one slow probe (the host took the vCPU away) moves no median.
        BenchmarkReport steady = WithProbes(new("a", 1, 700), new("b", 1, 2100), new("c", 1, 710), new("a", 2, 705), new("b", 2, 720), new("c", 2, 690));
        Assert.Equal(1.0, SummaryTables.SpeedSpread(steady.Metadata.SpeedProbes)!.Value, 1);
        Assert.DoesNotContain(SummaryTables.Notes(steady), n => n.Contains("speed", StringComparison.Ordinal));
        BenchmarkReport moved = WithProbes(new("a", 1, 1000), new("b", 1, 1010), new("a", 2, 700), new("b", 2, 690), new("a", 3, 720), new("b", 3, 700));
        Assert.Equal([1005, 695, 710], SummaryTables.SpeedByRun(moved.Metadata.SpeedProbes));
        string note = Assert.Single(SummaryTables.Notes(moved), n => n.Contains("speed", StringComparison.Ordinal));
        Assert.Contains("1,005, 695, 710 µs", note, StringComparison.Ordinal);
        Assert.Contains("45 %", note, StringComparison.Ordinal);
        Assert.Null(SummaryTables.SpeedSpread(WithProbes(new("a", 1, 700), new("b", 1, 900)).Metadata.SpeedProbes));
    }

    [Fact]
    public void Note_LoopbackRunMediansApart_SaysSo_CpuPartQuiet()
    {
        BenchmarkReport moved = WithProbes(new("a", 1, 700, 30), new("b", 1, 705, 31), new("a", 2, 702, 40), new("b", 2, 698, 41));
        Assert.Equal([30.5, 40.5], SummaryTables.SpeedByRun(moved.Metadata.SpeedProbes, SpeedPart.Loopback));
        string note = Assert.Single(SummaryTables.Notes(moved), n => n.Contains("loopback", StringComparison.Ordinal));
        Assert.Contains("30.5, 40.5 µs in runs 1-2", note, StringComparison.Ordinal);
        Assert.Contains("33 %", note, StringComparison.Ordinal);
        Assert.DoesNotContain(SummaryTables.Notes(moved), n => n.Contains("fixed work", StringComparison.Ordinal));
        // Probes without the loopback part (older reports) have no loopback figure at all.
        Assert.Empty(SummaryTables.SpeedByRun(WithProbes(new("a", 1, 700), new("a", 2, 710)).Metadata.SpeedProbes, SpeedPart.Loopback));
    }

    [Fact]
    public void Json_LoopbackPartWrittenAndReadBack()
    {
        BenchmarkReport report = WithProbes(new("rpyc_threaded", 1, 700, 30), new("tcp_raw", 1, 710, 32), new("rpyc_threaded", 2, 1000, 45));
        string json = JsonReporter.Render(report);
        using System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement loop = doc.RootElement.GetProperty("metadata").GetProperty("machine_speed").GetProperty("loopback");
        Assert.Equal(MachineSpeed.LoopbackWork, loop.GetProperty("work").GetString());
        Assert.Equal(32e-6, loop.GetProperty("median_seconds").GetDouble(), 12);
        Assert.Equal([31e-6, 45e-6], loop.GetProperty("run_median_seconds").EnumerateArray().Select(e => e.GetDouble()));
        Assert.Equal(45.0 / 31, loop.GetProperty("spread").GetDouble(), 9);
        Assert.Equal([30.0, 32.0, 45.0], ReportReader.Parse(json).Metadata.SpeedProbes.Select(p => Math.Round(p.LoopbackMicroseconds!.Value, 6)));
        Assert.DoesNotContain("loopback", JsonReporter.Render(WithProbes(new SpeedProbe("a", 1, 700))), StringComparison.Ordinal);
    }

    [Fact]
    public void TransferPart_NoteJsonAndCompare()
    {
        BenchmarkReport moved = WithProbes(new("a", 1, 700, 30, 4.0), new("b", 1, 700, 30, 4.2), new("a", 2, 700, 30, 5.0), new("b", 2, 700, 30, 5.2));
        Assert.Equal([4.1, 5.1], SummaryTables.SpeedByRun(moved.Metadata.SpeedProbes, SpeedPart.Transfer).Select(x => Math.Round(x, 9)));
        string note = Assert.Single(SummaryTables.Notes(moved), n => n.Contains("system calls", StringComparison.Ordinal));
        Assert.Contains("4.10, 5.10 µs of CPU in runs 1-2", note, StringComparison.Ordinal);
        Assert.Contains("24 % apart", note, StringComparison.Ordinal);
        Assert.DoesNotContain(SummaryTables.Notes(moved), n => n.Contains("loopback round trip", StringComparison.Ordinal));
        string json = JsonReporter.Render(moved);
        using System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement transfer = doc.RootElement.GetProperty("metadata").GetProperty("machine_speed").GetProperty("transfer");
        Assert.Equal(MachineSpeed.TransferWork, transfer.GetProperty("work").GetString());
        Assert.Equal(5.1 / 4.1, transfer.GetProperty("spread").GetDouble(), 9);
        Assert.Equal([4.0, 4.2, 5.0, 5.2], ReportReader.Parse(json).Metadata.SpeedProbes.Select(p => Math.Round(p.TransferMicroseconds!.Value, 6)));
        BenchmarkReport steady = WithProbes(new SpeedProbe("a", 1, 700, 30, 3.9));
        string warning = ComparisonReporter.SpeedWarning(ReportComparison.Compare(steady, moved))!;
        Assert.Contains("ran slower in new: a loopback send and receive took 3.90 µs of CPU in base and 4.60 in new", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_ProbesWrittenAndReadBack()
    {
        BenchmarkReport report = WithProbes(new("rpyc_threaded", 1, 700), new("rpyc_threaded", 2, 1000));
        string json = JsonReporter.Render(report);
        using System.Text.Json.JsonDocument doc = System.Text.Json.JsonDocument.Parse(json);
        System.Text.Json.JsonElement speed = doc.RootElement.GetProperty("metadata").GetProperty("machine_speed");
        Assert.Equal(MachineSpeed.Work, speed.GetProperty("work").GetString());
        Assert.Equal(1000.0 / 700, speed.GetProperty("spread").GetDouble(), 9);
        Assert.Equal(2, speed.GetProperty("run_median_seconds").GetArrayLength());
        IReadOnlyList<SpeedProbe> back = ReportReader.Parse(json).Metadata.SpeedProbes;
        Assert.Equal(report.Metadata.SpeedProbes.Select(p => (p.Target, p.Run)), back.Select(p => (p.Target, p.Run)));
        Assert.Equal(1000, back[1].Microseconds, 6);
        Assert.DoesNotContain("machine_speed", JsonReporter.Render(ReporterTests.Sample()), StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_MachineRanSlower_Warns_WithinFifteenPercentSilent()
    {
        BenchmarkReport fast = WithProbes(new("rpyc_threaded", 1, 700), new("rpyc_threaded", 2, 710));
        BenchmarkReport slow = WithProbes(new("rpyc_threaded", 1, 1000), new("rpyc_threaded", 2, 990));
        string warning = ComparisonReporter.SpeedWarning(ReportComparison.Compare(fast, slow))!;
        Assert.Contains("ran slower in new", warning, StringComparison.Ordinal);
        Assert.Contains("705 µs of CPU in base and 995 in new", warning, StringComparison.Ordinal);
        Assert.Contains(warning[..40], ComparisonReporter.RenderText(ReportComparison.Compare(fast, slow)).Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("ran faster in new", ComparisonReporter.SpeedWarning(ReportComparison.Compare(slow, fast)), StringComparison.Ordinal);
        Assert.Null(ComparisonReporter.SpeedWarning(ReportComparison.Compare(fast, WithProbes(new SpeedProbe("rpyc_threaded", 1, 760)))));
        Assert.Null(ComparisonReporter.SpeedWarning(ReportComparison.Compare(fast, ReporterTests.Sample())));
    }

    [Fact]
    public void Compare_NamesEachTargetsRunsBegunWithACpuSlow_WhenTheReportsDiffer()
    {
        BenchmarkReport slowCpu = WithProbes(new("rpyc_threaded", 1, 700, 30, 5.7, [4.6, 6.8]), new("other", 1, 700, 30, 4.6, [4.6, 4.7]));
        BenchmarkReport fullSpeed = WithProbes(new SpeedProbe("rpyc_threaded", 1, 700, 30, 4.7, [4.6, 4.8]));
        ReportComparison c = ReportComparison.Compare(slowCpu, fullSpeed);
        Assert.Equal("Runs begun with a CPU slow (a CPU's loopback send and receive over 25 % dearer than the report's cheapest): base run 1; new none.", ComparisonReporter.SlowCpuNote(c, "rpyc_threaded"));
        Assert.Contains("base run 1; new none.", ComparisonReporter.RenderText(c).Replace("\n", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("- rpyc_threaded: Runs begun with a CPU slow", ComparisonReporter.RenderMarkdown(c), StringComparison.Ordinal);
        // As many on both sides (whichever runs), or a report without per-CPU probes: nothing to say.
        Assert.Null(ComparisonReporter.SlowCpuNote(ReportComparison.Compare(fullSpeed, fullSpeed), "rpyc_threaded"));
        BenchmarkReport otherRun = WithProbes(new("rpyc_threaded", 1, 700, 30, 4.7, [4.6, 4.8]), new("rpyc_threaded", 2, 700, 30, 5.7, [6.8, 4.6]));
        BenchmarkReport firstRun = WithProbes(new("rpyc_threaded", 1, 700, 30, 5.7, [6.8, 4.6]), new("rpyc_threaded", 2, 700, 30, 4.7, [4.6, 4.8]));
        Assert.Null(ComparisonReporter.SlowCpuNote(ReportComparison.Compare(firstRun, otherRun), "rpyc_threaded"));
        Assert.Null(ComparisonReporter.SlowCpuNote(ReportComparison.Compare(slowCpu, WithProbes(new SpeedProbe("rpyc_threaded", 1, 700, 30))), "rpyc_threaded"));
        Assert.DoesNotContain("Runs begun", ComparisonReporter.RenderText(ReportComparison.Compare(fullSpeed, fullSpeed)), StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_LoopbackSlower_Warns_EvenWithTheCpuPartSteady()
    {
        BenchmarkReport quick = WithProbes(new("rpyc_threaded", 1, 700, 28), new("rpyc_threaded", 2, 700, 28));
        BenchmarkReport sluggish = WithProbes(new("rpyc_threaded", 1, 705, 36), new("rpyc_threaded", 2, 705, 36));
        string warning = ComparisonReporter.SpeedWarning(ReportComparison.Compare(quick, sluggish))!;
        Assert.Contains("ran slower in new: a loopback round trip took 28.0 µs in base and 36.0 in new", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("of CPU", warning, StringComparison.Ordinal);
        Assert.Null(ComparisonReporter.SpeedWarning(ReportComparison.Compare(quick, WithProbes(new SpeedProbe("rpyc_threaded", 1, 700, 31)))));
        // The parts moved apart: no single direction to name.
        BenchmarkReport mixed = WithProbes(new SpeedProbe("rpyc_threaded", 1, 500, 36));
        Assert.Contains("changed speed between base and new: the same fixed work took 700 µs of CPU in base and 500 in new", ComparisonReporter.SpeedWarning(ReportComparison.Compare(quick, mixed)), StringComparison.Ordinal);
    }
}
