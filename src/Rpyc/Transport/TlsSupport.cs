using System.Diagnostics.CodeAnalysis;

namespace Rpyc.Transport;

/// <summary>
/// The feature switch <c>Rpyc.Tls.IsSupported</c> (default on). An application that never uses TLS
/// can publish with it off, and the trimmer (NativeAOT's ILC, or <c>PublishTrimmed</c>) then leaves
/// out <c>SslStream</c>, OpenSSL's interop and, through the certificate context's OCSP fetch, the
/// whole HTTP client stack: a smaller NativeAOT binary, which a ForkingServer worker pays for at
/// every start (its data is rehydrated per process). Set in the project file:
/// <code>&lt;RuntimeHostConfigurationOption Include="Rpyc.Tls.IsSupported" Value="false" Trim="true" /&gt;</code>
/// With it off, asking for TLS fails with <see cref="NotSupportedException"/> saying so.
/// </summary>
internal static class TlsSupport
{
    public const string SwitchName = "Rpyc.Tls.IsSupported";

    // Read each time (only TLS set-up reads it), so that a test may turn it off for one process.
    [FeatureSwitchDefinition(SwitchName)]
    public static bool IsSupported => !AppContext.TryGetSwitch(SwitchName, out bool enabled) || enabled;

    public static NotSupportedException NotSupported(string what) =>
        new($"{what} needs TLS, which this application was published without (the feature switch {SwitchName} is off).");
}
