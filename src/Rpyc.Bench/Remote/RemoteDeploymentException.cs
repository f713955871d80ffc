namespace Rpyc.Bench;

/// <summary>Deploying to the remote host, or starting a server there, failed: the message says which step and why.</summary>
public sealed class RemoteDeploymentException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What failed, as a sentence.</param>
    public RemoteDeploymentException(string message) : base(message)
    {
    }

    /// <summary>Creates the exception with its cause.</summary>
    /// <param name="message">What failed, as a sentence.</param>
    /// <param name="innerException">The cause.</param>
    public RemoteDeploymentException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>Creates the exception.</summary>
    public RemoteDeploymentException()
    {
    }
}
