using System.Diagnostics;
using System.Security.Cryptography;

namespace Rpyc.Bench.Tests;

public class PayloadTests
{
    [Fact]
    public void Get_First40Bytes_AreSha256OfSeedBlocks()
    {
        // payload(40).hex() from python/bench_payload.py.
        Assert.Equal("ac045eabe1a6f1d8962c879d8c6598bcd2d5b7b7b9d5fa0f113732dd104758bc7167b0656f54c9c9", Convert.ToHexStringLower(Payload.Get(40).Span));
    }

    [Fact]
    public void Get_GrowingCache_PrefixIsStable()
    {
        byte[] small = Payload.Create(100);
        _ = Payload.Get(3 * 1024 * 1024 + 7);
        Assert.Equal(small, Payload.Get(100).ToArray());
        Assert.True(Payload.Matches(Payload.Create(70_001)));
        byte[] wrong = Payload.Create(1000);
        wrong[999] ^= 1;
        Assert.False(Payload.Matches(wrong));
    }

    [Fact]
    public void Get_PythonPeer_ProducesTheSameBytes()
    {
        string script = PythonPeers.Script(null, "bench_payload.py");
        var start = new ProcessStartInfo("/usr/bin/python3") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path.GetDirectoryName(script)! };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add("import hashlib, bench_payload; print(hashlib.sha256(bench_payload.payload(1048583)).hexdigest())");
        using Process python = Process.Start(start)!;
        string output = python.StandardOutput.ReadToEnd().Trim();
        string error = python.StandardError.ReadToEnd();
        Assert.True(python.WaitForExit(30_000));
        Assert.True(python.ExitCode == 0, $"python failed ({PythonPeers.InstallCommand}): {error}");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Payload.Get(1048583).Span)), output);
    }
}
