using Spectre.Console;

namespace Rpyc.Bench.Cli.Commands;

// The files and folders a command will write, made ready before it measures anything: their
// folders are created as `mkdir -p` would (the README's `-o artifacts/run.json` in a fresh clone),
// and a path that still cannot be written is a usage error now (exit 2), not a stack trace and a
// lost report after a run of minutes.
internal static class OutputPaths
{
    /// <summary>Creates the folder of each file and each folder; prints the first failure.</summary>
    /// <param name="outputs">(option, path, whether the path is a folder); null paths are skipped.</param>
    /// <returns>Whether every path can be written.</returns>
    public static bool Prepare(params (string Option, string? Path, bool IsFolder)[] outputs)
    {
        foreach ((string option, string? path, bool isFolder) in outputs)
        {
            if (string.IsNullOrEmpty(path) || path == "-")
            {
                continue;
            }
            if (Problem(path, isFolder) is { } problem)
            {
                AnsiConsole.MarkupLineInterpolated($"[red]Error:[/] cannot write {option} {path}: {problem}");
                return false;
            }
        }
        return true;
    }

    private static string? Problem(string path, bool isFolder)
    {
        try
        {
            string full = Path.GetFullPath(path);
            if (isFolder)
            {
                if (File.Exists(full))
                {
                    return "it is a file, not a folder";
                }
                Directory.CreateDirectory(full);
                return null;
            }
            if (Directory.Exists(full))
            {
                return "it is a folder";
            }
            if (Path.GetDirectoryName(full) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }
            return null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return ex.Message;
        }
    }
}
