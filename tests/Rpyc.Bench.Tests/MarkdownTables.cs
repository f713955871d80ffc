namespace Rpyc.Bench.Tests;

// The shape of the Markdown reports' tables as a GFM reader splits them.
internal static class MarkdownTables
{
    // Every row of every table has as many cells as its header: a pipe that is not escaped ends a
    // cell, and a backslash escapes the character after it (so 'a\\|b' ends one).
    public static void AssertWhole(string markdown)
    {
        int? columns = null;
        foreach (string line in markdown.Split('\n'))
        {
            if (!line.StartsWith('|'))
            {
                columns = null;
                continue;
            }
            int pipes = Pipes(line);
            columns ??= pipes;
            Assert.True(pipes == columns, $"{pipes - 1} cells where the header has {columns - 1}: {line}");
        }
    }

    private static int Pipes(string line)
    {
        int pipes = 0;
        for (int i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\')
            {
                i++;
            }
            else if (line[i] == '|')
            {
                pipes++;
            }
        }
        return pipes;
    }
}
