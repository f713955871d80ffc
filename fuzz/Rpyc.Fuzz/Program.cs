using Rpyc.Fuzz;
using SharpFuzz;

// rpyc-fuzz TARGET                  under afl-fuzz: the SharpFuzz fork server runs TARGET per input
// rpyc-fuzz TARGET --replay FILE... runs each input once in this process: 0 if none crashes, 1 if one does
// rpyc-fuzz --seed-corpus DIR VECTORS  writes seed inputs made from the golden vectors under DIR/TARGET/
if (args.Length == 3 && args[0] == "--seed-corpus")
{
    int written = SeedCorpus.Write(args[1], args[2]);
    Console.WriteLine($"wrote {written} seed inputs under {args[1]}");
    return 0;
}
if (args.Length == 0 || !Targets.All.TryGetValue(args[0], out Action<byte[]>? target))
{
    Console.Error.WriteLine($"usage: Rpyc.Fuzz ({string.Join('|', Targets.All.Keys)}) [--replay FILE...] | --seed-corpus DIR VECTORS");
    return 2;
}
if (args.Length >= 2 && args[1] == "--replay")
{
    return Replay.Run(target, args[2..]);
}
if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Rpyc.Fuzz TARGET [--replay FILE...]");
    return 2;
}
Fuzzer.OutOfProcess.Run(stream =>
{
    using var buffer = new MemoryStream();
    stream.CopyTo(buffer);
    target(buffer.ToArray());
});
return 0;
