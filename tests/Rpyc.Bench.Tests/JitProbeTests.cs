using System.Reflection.Emit;
using Rpyc.Bench.Profiling;

namespace Rpyc.Bench.Tests;

public sealed class JitProbeTests
{
    [Fact]
    public void Read_GrowsWhenThisProcessCompilesAMethod()
    {
        Func<long> probe = JitProbe.For(serverPid: null);
        long before = probe();

        // A dynamic method is compiled on its first call, whatever ran before.
        var method = new DynamicMethod("jit_probe_" + Guid.NewGuid().ToString("N"), typeof(int), Type.EmptyTypes);
        ILGenerator il = method.GetILGenerator();
        il.Emit(OpCodes.Ldc_I4, 42);
        il.Emit(OpCodes.Ret);
        int value = ((Func<int>)method.CreateDelegate(typeof(Func<int>)))();

        Assert.Equal(42, value);
        Assert.True(probe() > before, "compiling a method must count as JIT activity");
    }

    [Fact]
    public void Read_ServerProcessTree_CountsAtLeastThisProcess()
    {
        // This process stands in for a server: its tiered compiler's CPU time adds to our count, never subtracts.
        long clientOnly = JitProbe.For(serverPid: null)();
        long withServer = JitProbe.For(serverPid: Environment.ProcessId)();

        Assert.True(withServer >= clientOnly, $"{withServer} < {clientOnly}");
    }

    [Fact]
    public void Read_ServerThatExited_StillReadsOurCount()
    {
        // A pid nobody uses: the server's part is 0 and the read does not throw.
        Func<long> probe = JitProbe.For(serverPid: int.MaxValue);
        probe();
        long before = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);
        long value = probe();
        long after = System.Runtime.JitInfo.GetCompiledMethodCount(currentThread: false);

        Assert.InRange(value, before, after);
    }
}
