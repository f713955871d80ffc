using Spectre.Console;
using Spectre.Console.Cli;
using Spectre.Console.Cli.Help;
using Spectre.Console.Rendering;

namespace Rpyc.Bench.Cli.Commands;

// Spectre's help puts options, defaults and descriptions in three columns sized by their longest
// cell. rpycbench's longest option (--remote-host <[USER@]HOST[:PORT]>) and default (1K,10K,100K,1M)
// left the descriptions 16 characters at 80 columns, the width of a standard terminal and of every
// pipe and CI log (a redirected console is 80 wide): one word per line over 440 lines. Below
// WideEnough, each option gets its own line and its description the full width beneath it, as
// GNU tools print theirs; wider terminals keep Spectre's table.
internal sealed class StackedHelpProvider(ICommandAppSettings settings) : HelpProvider(settings)
{
    // The table keeps descriptions at least ~56 characters wide from here on.
    internal const int WideEnough = 120;

    private const int OptionIndent = 4;

    // Below a long-only option's name (which starts at OptionIndent + 4), so names stand out.
    private const int DescriptionIndent = 12;

    public override IEnumerable<IRenderable> GetOptions(ICommandModel model, ICommandInfo? command)
    {
        if (AnsiConsole.Profile.Width >= WideEnough)
        {
            return base.GetOptions(model, command);
        }
        var lines = new List<IRenderable> { new Markup("[yellow]OPTIONS:[/]") };
        lines.AddRange(Entry("-h, --help", null, "Prints help information"));
        if (command is null || command.IsDefaultCommand)
        {
            lines.AddRange(Entry("-v, --version", null, "Prints version information"));
        }
        foreach (ICommandOption option in command?.Parameters.OfType<ICommandOption>().Where(o => !o.IsHidden) ?? [])
        {
            // A flag's default (False) says nothing its name does not.
            string? defaultValue = option.IsFlag ? null : option.DefaultValue?.Value?.ToString();
            lines.AddRange(Entry(Names(option), defaultValue, option.Description));
        }
        return [Text.NewLine, new Rows(lines)];
    }

    private static IEnumerable<IRenderable> Entry(string names, string? defaultValue, string? description)
    {
        string head = string.IsNullOrEmpty(defaultValue) ? Markup.Escape(names) : $"{Markup.Escape(names)}  [grey](default: {Markup.Escape(defaultValue)})[/]";
        yield return new Padder(new Markup(head), new Padding(OptionIndent, 0, 0, 0));
        if (!string.IsNullOrWhiteSpace(description))
        {
            yield return new Padder(new Text(description), new Padding(DescriptionIndent, 0, 0, 0));
        }
    }

    // "-o, --output <FILE>", "    --pin <PLACEMENT>": long names line up under a short name's.
    private static string Names(ICommandOption option)
    {
        string shorts = string.Join(", ", option.ShortNames.Select(n => $"-{n}"));
        string longs = string.Join(", ", option.LongNames.Select(n => $"--{n}"));
        string names = shorts.Length == 0 ? $"    {longs}" : longs.Length == 0 ? shorts : $"{shorts}, {longs}";
        return option.ValueName is null ? names : option.ValueIsOptional ? $"{names} [{option.ValueName}]" : $"{names} <{option.ValueName}>";
    }
}
