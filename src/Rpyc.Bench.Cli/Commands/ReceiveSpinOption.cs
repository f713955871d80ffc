using System.Globalization;

namespace Rpyc.Bench.Cli.Commands;

// --receive-spin-us of 'rpycbench' and 'rpycbench serve': RpycConnectOptions.ReceiveSpin in microseconds.
internal static class ReceiveSpinOption
{
    private static readonly double s_maxMicroseconds = RpycConnectOptions.MaxReceiveSpin.TotalMicroseconds;

    public static string Error { get; } = string.Create(CultureInfo.InvariantCulture,
        $"--receive-spin-us must be between 0 and {s_maxMicroseconds} (RpycConnectOptions.MaxReceiveSpin).");

    // Written so that NaN fails too.
    public static bool IsValid(double microseconds) => microseconds >= 0 && microseconds <= s_maxMicroseconds;
}
