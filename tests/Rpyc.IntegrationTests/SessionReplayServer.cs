using System.Collections.Concurrent;
using Rpyc.Protocol;

namespace Rpyc.IntegrationTests;

/// <summary>
/// Plays the server of a recorded session against the .NET client. The client does not send the
/// Python client's frames (CALLATTR instead of GETATTR + CALL + DEL, no INSPECT), so each request
/// is matched by meaning: within the current step, the next recorded request of the same kind
/// with the same target, name and arguments. The answer is the recorded reply with the client's
/// seq, its <c>args</c> bytes kept exactly.
/// </summary>
internal sealed class SessionReplayServer : IAsyncDisposable
{
    // What one recorded request means: its argument boxes (for a method call: target, name,
    // args, kwargs, whether Python sent GETATTR + CALL or CALLATTR) and the recorded answer.
    private sealed record Exchange(RecordedFrame Request, PyTuple Expected, RecordedFrame Reply);

    private sealed class StepPlan
    {
        public Dictionary<string, Queue<Exchange>> Queues { get; } = [];

        // Requests the server sent during the step (a callback into the client).
        public List<RecordedFrame> ServerRequests { get; } = [];
    }

    private static readonly PyTuple s_noKwargs = new(BoxLabel.Value, PyTuple.Empty);

    private readonly RpycProtocolVersion _version;
    private readonly ScriptedPeer _peer = new();
    private readonly Dictionary<string, StepPlan> _plans = [];
    private readonly RecordedFrame _delReply;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentQueue<string> _failures = new();
    private readonly object _lock = new();
    private readonly List<byte[]> _received = [];
    private readonly List<object?> _clientDels = [];
    private readonly Dictionary<long, byte[]> _clientReplies = [];
    // Recorded id_pack of a client object (REMOTE_REF) → the id_pack the .NET client chose for it.
    private readonly Dictionary<PyTuple, PyTuple> _clientIds = [];
    private readonly Task _run;
    private volatile string _step = "";
    private byte[]? _closeFrame;

    public SessionReplayServer(RecordedSession session, RpycProtocolVersion version)
    {
        _version = version;
        RecordedFrame? delReply = null;
        var clientRequests = new Dictionary<long, (RecordedFrame Frame, HandlerId Handler, object? Box)>();
        var methodFetches = new Dictionary<PyTuple, (object? Target, object? Name)>();
        foreach (RecordedFrame frame in session.Frames)
        {
            Message message = frame.Message;
            if (message.Kind == MessageKind.Request)
            {
                if (frame.ClientToServer)
                {
                    (HandlerId handler, object? box) = Frames.Request(message);
                    clientRequests[message.Seq] = (frame, handler, box);
                }
                else
                {
                    Plan(frame.Step).ServerRequests.Add(frame);
                }
                continue;
            }
            if (frame.ClientToServer)
            {
                // The Python client's answers to the server's requests: compared, not replayed.
                RecordedClientReplies[message.Seq] = frame;
                continue;
            }
            (RecordedFrame request, HandlerId kind, object? requestBox) = clientRequests[message.Seq];
            PyTuple items = Frames.Items(requestBox);
            switch (kind)
            {
                case HandlerId.Del:
                    delReply ??= frame;
                    break;
                case HandlerId.Inspect:
                    break;
                case HandlerId.GetAttr when message.Kind == MessageKind.Reply
                    && message.Args is PyTuple { Count: 2 } reply && reply[0] is BoxLabel.RemoteRef
                    && reply[1] is PyTuple { Count: 3 } id && id[0] is "builtins.method":
                    // Python's GETATTR of a method before CALL: the .NET client uses CALLATTR instead.
                    methodFetches[id] = (items[0], items[1]);
                    break;
                case HandlerId.Call:
                    if (items[0] is PyTuple { Count: 2 } target && target[1] is PyTuple methodId
                        && methodFetches.TryGetValue(methodId, out (object? Target, object? Name) fetched))
                    {
                        var shape = new PyTuple(fetched.Target, fetched.Name, items[1], items.Count > 2 ? items[2] : s_noKwargs);
                        Enqueue(request.Step, "call", new Exchange(request, shape, frame));
                    }
                    break;
                case HandlerId.CallAttr:
                    Enqueue(request.Step, "call", new Exchange(request, CallAttrShape(items), frame));
                    break;
                default:
                    Enqueue(request.Step, kind.ToString(), new Exchange(request, items, frame));
                    break;
            }
        }
        _delReply = delReply ?? throw new InvalidDataException($"session-{session.Name} has no reply to a DEL.");
        _run = Task.Run(RunAsync);
    }

    public int Port => _peer.Port;

    /// <summary>The step whose recorded replies answer the next requests.</summary>
    public string Step
    {
        set => _step = value;
    }

    /// <summary>The Python client's recorded replies to the server's own requests, by the server's seq.</summary>
    public Dictionary<long, RecordedFrame> RecordedClientReplies { get; } = [];

    /// <summary>Ends when the client has sent CLOSE or closed the connection, or the script failed.</summary>
    public Task Completion => _run;

    public IReadOnlyList<byte[]> Received
    {
        get
        {
            lock (_lock)
            {
                return [.. _received];
            }
        }
    }

    /// <summary>The argument boxes of every DEL the client sent.</summary>
    public IReadOnlyList<object?> ClientDels
    {
        get
        {
            lock (_lock)
            {
                return [.. _clientDels];
            }
        }
    }

    public byte[]? CloseFrame
    {
        get
        {
            lock (_lock)
            {
                return _closeFrame;
            }
        }
    }

    public byte[]? ClientReply(long serverSeq)
    {
        lock (_lock)
        {
            return _clientReplies.GetValueOrDefault(serverSeq);
        }
    }

    public string Failures => string.Join("\n", _failures);

    public bool Failed => !_failures.IsEmpty;

    /// <summary>The first positional argument of the step's first recorded call, as the Python client sent it.</summary>
    public object? RecordedArgument(string step, int index = 0)
    {
        Exchange exchange = _plans[step].Queues["call"].Peek();
        PyTuple args = Frames.Items(exchange.Expected[2]);
        return args[index] is PyTuple { Count: 2 } box && box[0] is BoxLabel.Value ? box[1] : throw new InvalidDataException($"Argument {index} of {exchange.Request} is not a value.");
    }

    /// <summary>The keyword arguments of the step's first recorded call.</summary>
    public object? RecordedKwargs(string step) => _plans[step].Queues["call"].Peek().Expected[3] is PyTuple { Count: 2 } box ? box[1] : null;

    private StepPlan Plan(string step)
    {
        if (!_plans.TryGetValue(step, out StepPlan? plan))
        {
            plan = new StepPlan();
            _plans[step] = plan;
        }
        return plan;
    }

    private void Enqueue(string step, string category, Exchange exchange)
    {
        Dictionary<string, Queue<Exchange>> queues = Plan(step).Queues;
        if (!queues.TryGetValue(category, out Queue<Exchange>? queue))
        {
            queue = new Queue<Exchange>();
            queues[category] = queue;
        }
        queue.Enqueue(exchange);
    }

    private static PyTuple CallAttrShape(PyTuple items) => new(items[0], items[1], items[2], items.Count > 3 ? items[3] : s_noKwargs);

    private async Task RunAsync()
    {
        CancellationToken token = _stop.Token;
        try
        {
            await _peer.AcceptAsync(token);
            while (await _peer.ReadFrameAsync(token) is { } frame)
            {
                if (!await HandleAsync(frame, token))
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (token.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            _failures.Enqueue($"The scripted server failed: {ex}");
        }
        finally
        {
            // As Python does after CLOSE; after a failure, it makes the client fail at once.
            _peer.CloseConnection();
        }
    }

    // Returns false when the conversation is over (CLOSE or a script failure).
    private async Task<bool> HandleAsync(byte[] frame, CancellationToken token)
    {
        lock (_lock)
        {
            _received.Add(frame);
        }
        Message message = Frames.Decode(frame, _version).Message;
        if (message.Kind != MessageKind.Request)
        {
            lock (_lock)
            {
                _clientReplies[message.Seq] = frame;
            }
            return true;
        }
        (HandlerId handler, object? box) = Frames.Request(message);
        switch (handler)
        {
            case HandlerId.Del:
                lock (_lock)
                {
                    _clientDels.Add(box);
                }
                await _peer.SendAsync(Frames.WithSeq(_delReply, message.Seq), token);
                return true;
            case HandlerId.Close:
                lock (_lock)
                {
                    _closeFrame = frame;
                }
                return false;
        }
        string step = _step;
        PyTuple items = Frames.Items(box);
        PyTuple actual = handler == HandlerId.CallAttr ? CallAttrShape(items) : items;
        string category = handler == HandlerId.CallAttr ? "call" : handler.ToString();
        if (!_plans.TryGetValue(step, out StepPlan? plan) || !plan.Queues.TryGetValue(category, out Queue<Exchange>? queue) || !queue.TryDequeue(out Exchange? exchange))
        {
            return Fail($"step \"{step}\": no recorded {category} request is left to answer the client's {handler} seq {message.Seq} {Short(box)}");
        }
        if (!BoxesMatch(exchange.Expected, actual))
        {
            return Fail($"step \"{step}\": the client's {handler} seq {message.Seq} does not match {exchange.Request}:\n  expected {Short(exchange.Expected)}\n  actual   {Short(actual)}");
        }
        // Callbacks recorded between the request and its reply are sent first, each waiting for the client's answer.
        foreach (RecordedFrame request in plan.ServerRequests.Where(r => r.Index > exchange.Request.Index && r.Index < exchange.Reply.Index))
        {
            await _peer.SendAsync(WithClientIds(request), token);
            if (!await AwaitClientReplyAsync(request.Message.Seq, token))
            {
                return false;
            }
        }
        await _peer.SendAsync(Frames.WithSeq(exchange.Reply, message.Seq), token);
        // Requests recorded after the reply (the DEL of the client's callback) follow it, unanswered for now.
        foreach (RecordedFrame request in plan.ServerRequests.Where(r => r.Index > exchange.Reply.Index))
        {
            await _peer.SendAsync(WithClientIds(request), token);
        }
        return true;
    }

    private async Task<bool> AwaitClientReplyAsync(long serverSeq, CancellationToken token)
    {
        while (ClientReply(serverSeq) is null)
        {
            byte[]? frame = await _peer.ReadFrameAsync(token);
            if (frame is null)
            {
                return Fail($"the client closed the connection before answering the server's request seq {serverSeq}");
            }
            if (!await HandleAsync(frame, token))
            {
                return false;
            }
        }
        return true;
    }

    // The recorded server request, pointing at the .NET client's objects instead of the Python client's.
    private byte[] WithClientIds(RecordedFrame request)
    {
        Message message = request.Message;
        object? args = Substitute(message.Args, out bool changed);
        return changed ? Frames.Encode(_version, message.Kind, message.Seq, args, request.Compressed) : request.Raw;
    }

    private object? Substitute(object? value, out bool changed)
    {
        changed = false;
        if (value is not PyTuple tuple)
        {
            return value;
        }
        lock (_lock)
        {
            if (_clientIds.TryGetValue(tuple, out PyTuple? replacement))
            {
                changed = true;
                return replacement;
            }
        }
        var items = new object?[tuple.Count];
        for (int i = 0; i < items.Length; i++)
        {
            items[i] = Substitute(tuple[i], out bool itemChanged);
            changed |= itemChanged;
        }
        return changed ? PyTuple.From(items) : tuple;
    }

    // Boxes match when labels match and values are equal; the client's own objects (REMOTE_REF)
    // match by name_pack, and the pairing of ids is remembered for the server's callbacks.
    private bool BoxesMatch(PyTuple expected, PyTuple actual)
    {
        if (expected.Count != actual.Count)
        {
            return false;
        }
        for (int i = 0; i < expected.Count; i++)
        {
            if (!BoxMatches(expected[i], actual[i]))
            {
                return false;
            }
        }
        return true;
    }

    private bool BoxMatches(object? expected, object? actual)
    {
        if (expected is not PyTuple { Count: 2 } e || e[0] is not long label || actual is not PyTuple { Count: 2 } a || a[0] is not long actualLabel || label != actualLabel)
        {
            return false;
        }
        switch (label)
        {
            case BoxLabel.Tuple:
                return e[1] is PyTuple expectedItems && a[1] is PyTuple actualItems && BoxesMatch(expectedItems, actualItems);
            case BoxLabel.RemoteRef:
                if (e[1] is not PyTuple { Count: 3 } recordedId || a[1] is not PyTuple { Count: 3 } clientId || !PyValue.Equal(recordedId[0], clientId[0]))
                {
                    return false;
                }
                lock (_lock)
                {
                    _clientIds[recordedId] = clientId;
                }
                return true;
            default:
                return PyValue.Equal(e[1], a[1]);
        }
    }

    private static string Short(object? value)
    {
        string repr = PyValue.Repr(value);
        return repr.Length <= 400 ? repr : $"{repr[..400]}... ({repr.Length} characters)";
    }

    private bool Fail(string message)
    {
        _failures.Enqueue(message);
        return false;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _peer.DisposeAsync();
        try
        {
            await _run.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
        }
        _stop.Dispose();
    }
}
