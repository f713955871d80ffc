using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>
/// Writes a sweep as one JSON document: <c>{"metadata": {…, "description", "grid"}, "points":
/// [{"parameters": {…}, "report": {…}}]}</c>, each <c>report</c> exactly what the run command writes
/// for that point (<see cref="JsonReporter"/>, readable by <see cref="ReportReader"/>). A pure
/// function of the sweep.
/// </summary>
public static class SweepJsonReporter
{
    /// <summary>Renders the sweep.</summary>
    /// <param name="sweep">The sweep.</param>
    /// <returns>Indented JSON.</returns>
    public static string Render(SweepReport sweep)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        SweepMetadata m = sweep.Metadata;
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            w.WriteStartObject("metadata");
            w.WriteString("tool", "rpycbench");
            w.WriteString("kind", "sweep");
            w.WriteNumber("schema_version", JsonReporter.SchemaVersion);
            w.WriteString("tool_version", m.ToolVersion);
            w.WriteString("start_time", m.StartTime.ToString("O", CultureInfo.InvariantCulture));
            w.WriteNumber("duration", Math.Round(m.Seconds, 3));
            w.WriteBoolean("interrupted", m.Interrupted);
            if (m.Description is null)
            {
                w.WriteNull("description");
            }
            else
            {
                w.WriteString("description", m.Description);
            }
            w.WriteStartObject("grid");
            foreach (SweepAxis axis in m.Grid)
            {
                w.WriteStartArray(axis.Name);
                foreach (int value in axis.Values)
                {
                    w.WriteNumberValue(value);
                }
                w.WriteEndArray();
            }
            w.WriteEndObject();
            w.WriteNumber("point_count", sweep.Points.Count);
            Dictionary(w, "machine", m.Machine);
            if (m.RemoteMachine is { } remote)
            {
                Dictionary(w, "remote_machine", remote);
            }
            w.WriteEndObject();
            w.WriteStartArray("points");
            foreach (SweepPoint point in sweep.Points)
            {
                w.WriteStartObject();
                w.WriteStartObject("parameters");
                foreach (KeyValuePair<string, int> kv in point.Parameters)
                {
                    w.WriteNumber(kv.Key, kv.Value);
                }
                w.WriteEndObject();
                w.WritePropertyName("report");
                w.WriteRawValue(JsonReporter.Render(point.Report), skipInputValidation: true);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Writes the sweep to a file (UTF-8).</summary>
    /// <param name="sweep">The sweep.</param>
    /// <param name="path">The file.</param>
    public static void Write(SweepReport sweep, string path) => File.WriteAllText(path, Render(sweep), new UTF8Encoding(false));

    private static void Dictionary(Utf8JsonWriter w, string name, IReadOnlyDictionary<string, object> values)
    {
        w.WriteStartObject(name);
        foreach (KeyValuePair<string, object> kv in values)
        {
            w.WritePropertyName(kv.Key);
            JsonReporter.Value(w, kv.Value);
        }
        w.WriteEndObject();
    }
}
