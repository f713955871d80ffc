using Rpyc.Examples.Profiling;

// The C# versions of the original rpycbench profiling examples, each against a .NET ThreadedServer
// started in-process on 127.0.0.1:
//   dotnet run --project examples/Profiling -- basic | advanced | slow | all
string which = args.Length > 0 ? args[0] : "all";
switch (which)
{
    case "basic":
        BasicExample.Run();
        break;
    case "advanced":
        AdvancedExample.Run();
        break;
    case "slow":
        DiagnoseSlowCallsExample.Run();
        break;
    case "all":
        BasicExample.Run();
        AdvancedExample.Run();
        DiagnoseSlowCallsExample.Run();
        break;
    default:
        Console.Error.WriteLine("usage: Profiling [basic|advanced|slow|all]");
        return 2;
}
return 0;
