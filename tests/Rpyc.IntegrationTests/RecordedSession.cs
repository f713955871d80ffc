using System.Buffers;
using System.Text.Json;
using Rpyc.Channel;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests;

/// <summary>One frame of a recorded session (wire notes section 13): direction, step, complete frame bytes.</summary>
internal sealed record RecordedFrame(int Index, bool ClientToServer, string Step, byte[] Raw, RpycProtocolVersion Wire, JsonElement Decoded)
{
    public bool Compressed => Raw[4] != 0;

    public Message Message => Frames.Decode(Raw, Wire).Message;

    public override string ToString() => $"frame {Index} ({(ClientToServer ? "c2s" : "s2c")}, {Step})";
}

/// <summary>What the stock Python client observed at one step (<c>*.steps.json</c>).</summary>
internal sealed record RecordedStep(string Name, bool Ok, string? Result, string? ExceptionType, string? ExceptionStr);

/// <summary>A recorded session: <c>session-NAME.jsonl</c> with <c>session-NAME.steps.json</c>.</summary>
internal sealed class RecordedSession
{
    private readonly Dictionary<string, RecordedStep> _steps;

    private RecordedSession(string name, IReadOnlyList<RecordedFrame> frames, IReadOnlyList<RecordedStep> steps)
    {
        Name = name;
        Frames = frames;
        Steps = steps;
        _steps = steps.ToDictionary(s => s.Name, StringComparer.Ordinal);
    }

    public string Name { get; }

    public IReadOnlyList<RecordedFrame> Frames { get; }

    public IReadOnlyList<RecordedStep> Steps { get; }

    public RecordedStep Step(string name) =>
        _steps.TryGetValue(name, out RecordedStep? step) ? step : throw new KeyNotFoundException($"session-{Name} has no step named \"{name}\".");

    public static RecordedSession Load(string name)
    {
        string directory = Path.Combine(AppContext.BaseDirectory, "vectors");
        var frames = new List<RecordedFrame>();
        foreach (string line in File.ReadLines(Path.Combine(directory, $"session-{name}.jsonl")))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using JsonDocument doc = JsonDocument.Parse(line);
            JsonElement root = doc.RootElement;
            JsonElement decoded = root.GetProperty("decoded").Clone();
            RpycProtocolVersion wire = decoded.GetProperty("wire").GetString() switch
            {
                "5" => RpycProtocolVersion.V5,
                "6" => RpycProtocolVersion.V6,
                var other => throw new InvalidDataException($"session-{name}: unknown wire \"{other}\"."),
            };
            frames.Add(new RecordedFrame(
                root.GetProperty("i").GetInt32(),
                root.GetProperty("dir").GetString() == "c2s",
                root.GetProperty("step").GetString()!,
                Convert.FromHexString(root.GetProperty("raw_hex").GetString()!),
                wire,
                decoded));
        }
        var steps = new List<RecordedStep>();
        using (JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, $"session-{name}.steps.json"))))
        {
            foreach (JsonElement step in doc.RootElement.GetProperty("steps").EnumerateArray())
            {
                steps.Add(new RecordedStep(
                    step.GetProperty("step").GetString()!,
                    step.GetProperty("ok").GetBoolean(),
                    step.TryGetProperty("result", out JsonElement result) ? result.GetString() : null,
                    step.TryGetProperty("exception_type", out JsonElement type) ? type.GetString() : null,
                    step.TryGetProperty("exception_str", out JsonElement text) ? text.GetString() : null));
            }
        }
        return new RecordedSession(name, frames, steps);
    }
}

/// <summary>Frame and envelope coding through the library's own internals.</summary>
internal static class Frames
{
    public const int MaxDepth = 256;

    /// <summary>Decodes one complete frame; throws when it is not exactly one frame.</summary>
    public static (Message Message, byte[] Payload, bool Compressed) Decode(byte[] raw, RpycProtocolVersion version)
    {
        var buffer = new ReadOnlySequence<byte>(raw);
        if (!FrameReader.TryReadHeader(buffer, ChannelLimits.Default, out _, out bool compressed))
        {
            throw new InvalidDataException($"A frame of {raw.Length} bytes has no complete header.");
        }
        if (!FrameReader.TryReadFrame(ref buffer, ChannelLimits.Default, out ReadOnlySequence<byte> payload))
        {
            throw new InvalidDataException($"A frame of {raw.Length} bytes is incomplete.");
        }
        if (!buffer.IsEmpty)
        {
            throw new InvalidDataException($"{buffer.Length} bytes follow the frame.");
        }
        byte[] bytes = payload.ToArray();
        return (Envelope.Read(new ReadOnlySequence<byte>(bytes), version, MaxDepth), bytes, compressed);
    }

    public static byte[] EncodePayload(RpycProtocolVersion version, MessageKind kind, long seq, object? args)
    {
        var buffer = new ArrayBufferWriter<byte>();
        Envelope.Write(buffer, version, kind, seq, args);
        return buffer.WrittenSpan.ToArray();
    }

    public static byte[] Encode(RpycProtocolVersion version, MessageKind kind, long seq, object? args, bool compress) =>
        FrameWriter.Encode(EncodePayload(version, kind, seq, args), compress ? FrameWriter.PythonCompressionThreshold : -1);

    /// <summary>
    /// The recorded frame with another seq: the envelope prefix is rewritten and the recorded
    /// <c>args</c> bytes are kept exactly; compressed again when the recording was compressed.
    /// </summary>
    public static byte[] WithSeq(RecordedFrame frame, long seq)
    {
        (Message message, byte[] payload, bool compressed) = Decode(frame.Raw, frame.Wire);
        // 5.x: TAG_TUP3, imm msg, seq, args; 6.x: raw msg byte, TAG_TUP2, seq, args.
        byte[] oldSeq = Brine.Brine.Dump(message.Seq);
        if (!payload.AsSpan(2, oldSeq.Length).SequenceEqual(oldSeq))
        {
            throw new InvalidDataException($"{frame}: the seq {message.Seq} is not encoded canonically.");
        }
        byte[] newSeq = Brine.Brine.Dump(seq);
        byte[] rewritten = [.. payload.AsSpan(0, 2), .. newSeq, .. payload.AsSpan(2 + oldSeq.Length)];
        return FrameWriter.Encode(rewritten, compressed ? FrameWriter.PythonCompressionThreshold : -1);
    }

    /// <summary>The handler and boxed argument tuple of a request message.</summary>
    public static (HandlerId Handler, object? Box) Request(Message message) =>
        message.Args is PyTuple { Count: 2 } request && request[0] is long handler
            ? ((HandlerId)handler, request[1])
            : throw new InvalidDataException($"Request seq {message.Seq} is not (handler, args): {PyValue.Repr(message.Args)}.");

    /// <summary>The boxes of a LABEL_TUPLE argument box.</summary>
    public static PyTuple Items(object? box) =>
        box is PyTuple { Count: 2 } b && b[0] is long label && b[1] is PyTuple items
            ? label == BoxLabel.Tuple ? items : label == BoxLabel.Value ? PyTuple.From(items.Select(v => (object?)new PyTuple(BoxLabel.Value, v))) : throw new InvalidDataException($"Box label {label} is not a tuple.")
            : throw new InvalidDataException($"Not a tuple box: {PyValue.Repr(box)}.");
}
