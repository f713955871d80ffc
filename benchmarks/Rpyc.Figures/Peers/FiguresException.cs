namespace Rpyc.Figures.Peers;

/// <summary>A peer process could not be started or misbehaved: the run fails with this message.</summary>
internal sealed class FiguresException(string message, Exception? inner = null) : Exception(message, inner);
