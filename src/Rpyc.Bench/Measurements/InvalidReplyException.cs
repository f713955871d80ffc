namespace Rpyc.Bench;

/// <summary>
/// A server answered, but not with what the benchmark service must return (wrong bytes, wrong
/// length, wrong status). Benchmarks count it as a failed request.
/// </summary>
public sealed class InvalidReplyException : Exception
{
    /// <summary>Creates the exception.</summary>
    /// <param name="message">What was expected and what came back.</param>
    public InvalidReplyException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a default message.</summary>
    public InvalidReplyException()
        : base("The server's reply differs from what the benchmark service must return.")
    {
    }

    /// <summary>Creates the exception with a cause.</summary>
    /// <param name="message">What was expected and what came back.</param>
    /// <param name="innerException">The cause.</param>
    public InvalidReplyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
