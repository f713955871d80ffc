using System.Numerics;

namespace Rpyc.IntegrationTests.Servers;

/// <summary>
/// The three brine limits (<see cref="RpycConnectOptions.MaxBrineDepth"/>, <see cref="RpycConnectOptions.MaxIntDigits"/>,
/// <see cref="RpycConnectOptions.MaxBrineItems"/>) are per connection, on real sockets: a server
/// (threaded, or forking through its workers' command line) or a client given a small limit closes
/// the connection on a message that one with the defaults accepts.
/// </summary>
[Collection(DotNetServersCollection.Name)]
public sealed class BrineLimitsOptionTests(ITestOutputHelper output)
{
    public static TheoryData<ServerKind, string> Cases() => new()
    {
        { ServerKind.Threaded, "digits" },
        { ServerKind.Threaded, "items" },
        { ServerKind.Threaded, "depth" },
        { ServerKind.Forking, "digits" },
        { ServerKind.Forking, "items" },
        { ServerKind.Forking, "depth" },
    };

    // Within the defaults (4300 digits, ten million items, 256 levels); past the small limits below.
    private static object? Value(string limit) => limit switch
    {
        "digits" => BigInteger.Pow(10, 59) + 7,
        "items" => new PyTuple([.. Enumerable.Range(0, 100).Select(i => (object?)(long)i)]),
        "depth" => Nest(20),
        _ => throw new ArgumentOutOfRangeException(nameof(limit)),
    };

    private static RpycConnectOptions Small(string limit) => limit switch
    {
        "digits" => new RpycConnectOptions { MaxIntDigits = 50 },
        "items" => new RpycConnectOptions { MaxBrineItems = 50 },
        "depth" => new RpycConnectOptions { MaxBrineDepth = 10 },
        _ => throw new ArgumentOutOfRangeException(nameof(limit)),
    };

    private static PyTuple Nest(int levels)
    {
        var value = new PyTuple(1L);
        for (int i = 1; i < levels; i++)
        {
            value = new PyTuple(value);
        }
        return value;
    }

    private static RpycServerOptions ServerOptions(RpycConnectOptions connection) =>
        new() { Host = "127.0.0.1", Port = 0, ConnectionOptions = connection };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Server_SmallLimit_ClosesOnMessageTheDefaultAccepts(ServerKind kind, string limit)
    {
        object? value = Value(limit);
        using (RpycServer defaults = TestServers.Start<HeapLimitService>(kind, ServerOptions(RpycConnectOptions.Default), prestartedWorkers: 1))
        using (RpycConnection client = TestServers.Connect(defaults))
        {
            ValueAssert(value, client.RootNetref.CallMethod("echo", value));
        }
        using RpycServer small = TestServers.Start<HeapLimitService>(kind, ServerOptions(Small(limit)), prestartedWorkers: 1);
        using RpycConnection refused = TestServers.Connect(small);
        Assert.Equal("pong", refused.RootNetref.CallMethod("ping"));
        var ex = Assert.ThrowsAny<RpycConnectionException>(() => refused.RootNetref.CallMethod("echo", value));
        output.WriteLine($"{kind} {limit}: {ex.GetType().Name}: {ex.Message}");
        Assert.True(refused.IsClosed);
        // The limit ends that connection only.
        using RpycConnection next = TestServers.Connect(small);
        Assert.Equal("pong", next.RootNetref.CallMethod("ping"));
    }

    [Theory]
    [InlineData("digits")]
    [InlineData("items")]
    [InlineData("depth")]
    public void Client_SmallLimit_ClosesOnReplyTheDefaultAccepts(string limit)
    {
        object? value = Value(limit);
        using RpycServer server = TestServers.Start<HeapLimitService>(ServerKind.Threaded);
        using (RpycConnection defaults = TestServers.Connect(server))
        {
            ValueAssert(value, defaults.RootNetref.CallMethod("echo", value));
        }
        RpycConnectOptions small = Small(limit);
        using RpycConnection client = TestServers.Connect(server, new RpycConnectOptions
        {
            SyncRequestTimeout = TimeSpan.FromSeconds(30),
            MaxIntDigits = small.MaxIntDigits,
            MaxBrineItems = small.MaxBrineItems,
            MaxBrineDepth = small.MaxBrineDepth,
        });
        // The request leaves unchecked (limits bound what this side reads); the echo is refused.
        var ex = Assert.ThrowsAny<RpycException>(() => client.RootNetref.CallMethod("echo", value));
        output.WriteLine($"client {limit}: {ex.GetType().Name}: {ex.Message}");
        Assert.True(client.IsClosed);
        Assert.Contains(limit switch { "digits" => "MaxIntDigits", "items" => "MaxItems", _ => "nesting deeper" }, ex.ToString(), StringComparison.Ordinal);
    }

    private static void ValueAssert(object? expected, object? actual)
    {
        switch (expected)
        {
            case BigInteger big:
                Assert.Equal(big, Assert.IsType<BigInteger>(actual));
                break;
            case PyTuple tuple:
                // Tuples come back by value: compare their brine bytes.
                Assert.Equal(Brine.Brine.Dump(tuple), Brine.Brine.Dump(actual));
                break;
            default:
                Assert.Equal(expected, actual);
                break;
        }
    }
}
