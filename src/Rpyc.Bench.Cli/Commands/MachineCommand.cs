using System.ComponentModel;
using System.Globalization;
using Rpyc.Bench;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Rpyc.Bench.Cli.Commands;

// rpycbench machine [--seconds S]: the machine a run would be taken on (MachineInfo), the CPU
// placements it allows, and how much CPU other programs use right now (MachineNoise).
internal sealed class MachineCommand : Command<MachineCommand.Settings>
{
    internal sealed class Settings : CommandSettings
    {
        [CommandOption("--seconds <S>")]
        [Description("How long to watch other programs' CPU use; 0 skips it.")]
        [DefaultValue(2.0)]
        public double Seconds { get; init; } = 2.0;

        [CommandOption("--json")]
        [Description("Print the machine's description (the report's machine_details) as one JSON object instead of the table; --remote-host collects the remote machine's this way.")]
        public bool Json { get; init; }

        public override ValidationResult Validate() =>
            Seconds is >= 0 and <= 600 ? ValidationResult.Success() : ValidationResult.Error("--seconds must be between 0 and 600.");
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        MachineInfo info = MachineInfo.Collect();
        if (settings.Json)
        {
            Console.Out.WriteLine(MachineJson(info));
            return ExitCodes.Ok;
        }
        var table = new Table().Border(TableBorder.Simple).AddColumn("machine").AddColumn("value");
        foreach ((string key, object value) in info.ToDictionary())
        {
            table.AddRow(Markup.Escape(key), Markup.Escape(Format(value)));
        }
        foreach (CpuPlacementMode mode in Enum.GetValues<CpuPlacementMode>())
        {
            string placement;
            try
            {
                placement = CpuPlacement.Resolve(mode).Description;
            }
            catch (CpuPlacementException ex)
            {
                placement = "unavailable: " + ex.Message;
            }
            table.AddRow(Markup.Escape("placement " + CpuPlacement.ModeKey(mode)), Markup.Escape(placement));
        }
        if (settings.Seconds > 0)
        {
            MachineNoise noise = MachineNoise.Start();
            cancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(settings.Seconds));
            MachineNoiseResult r = noise.Stop();
            string verdict = double.IsNaN(r.OtherCores) ? "unknown (no /proc/stat)"
                : string.Create(CultureInfo.InvariantCulture, $"{r.OtherCores:0.00} cores over {r.Seconds:0.0} s{(r.Busy ? ": BUSY, figures taken now would be skewed" : ": quiet")}");
            table.AddRow("other programs' CPU", Markup.Escape(verdict));
        }
        AnsiConsole.Write(table);
        return cancellationToken.IsCancellationRequested ? ExitCodes.Interrupted : ExitCodes.Ok;
    }

    private static string MachineJson(MachineInfo info)
    {
        using var stream = new MemoryStream();
        using (var w = new System.Text.Json.Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            foreach ((string key, object value) in info.ToDictionary())
            {
                switch (value)
                {
                    case string text:
                        w.WriteString(key, text);
                        break;
                    case bool flag:
                        w.WriteBoolean(key, flag);
                        break;
                    case int or long:
                        w.WriteNumber(key, Convert.ToInt64(value, CultureInfo.InvariantCulture));
                        break;
                    case int[] ints:
                        w.WriteStartArray(key);
                        Array.ForEach(ints, w.WriteNumberValue);
                        w.WriteEndArray();
                        break;
                    case double[] doubles:
                        w.WriteStartArray(key);
                        Array.ForEach(doubles, d => w.WriteNumberValue(double.IsFinite(d) ? d : 0));
                        w.WriteEndArray();
                        break;
                    default:
                        w.WriteString(key, Format(value));
                        break;
                }
            }
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }

    private static string Format(object value) => value switch
    {
        int[] ints => string.Join(",", ints),
        double[] doubles => string.Join(" ", doubles.Select(d => d.ToString("0.00", CultureInfo.InvariantCulture))),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
