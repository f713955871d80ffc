using System.Diagnostics;

namespace Rpyc;

// TLS for a ForkingServer: the parent never touches the TLS session. It hands the worker the raw
// socket once the ClientHello has arrived (as any first bytes), and the worker runs the handshake
// within its HandshakeTimeout: a slow or hostile handshake then costs that one worker's CPU and
// time, never the parent's hand-off thread, and the session keys live only in the process that
// serves the connection. The certificate and its key reach each worker on its standard input (a
// pipe only the two processes hold), never on the command line, which any local user can read.
public sealed partial class ForkingServer
{
    private readonly byte[]? _tlsSettings;

    private static void CheckTls(RpycServerOptions? options)
    {
        if (options?.Tls?.ClientCertificateValidation is not null)
        {
            throw new ArgumentException(
                "RpycTlsServerOptions.ClientCertificateValidation cannot be used by a ForkingServer: the handshake runs in a worker process, " +
                "where the callback does not exist. Set ClientCertificateAuthorities instead.", nameof(options));
        }
    }

    private void PrepareTls(ProcessStartInfo start)
    {
        if (_tlsSettings is null)
        {
            return;
        }
        start.ArgumentList.Add("--tls");
        start.ArgumentList.Add("stdin");
        start.RedirectStandardInput = true;
    }

    // A few KiB, far below a pipe's buffer: the write never waits for the worker.
    private void SendTls(Process process)
    {
        if (_tlsSettings is null)
        {
            return;
        }
        try
        {
            Stream input = process.StandardInput.BaseStream;
            input.Write(_tlsSettings);
            input.Flush();
        }
        catch (IOException ex)
        {
            RpycLog.Warn($"worker {SafeId(process)}: could not send the TLS settings: {ex.Message}");
        }
        finally
        {
            process.StandardInput.Close();
        }
    }
}
