using Rpyc.Protocol;

namespace Rpyc.Telemetry;

// rpyc/core/consts.py HANDLE_* in the lower-case form rpyc's own logs and the original rpycbench use.
internal static class HandlerNames
{
    private static readonly string[] s_names =
    [
        "handler_0", "ping", "close", "getroot", "getattr", "delattr", "setattr", "call", "callattr", "repr",
        "str", "cmp", "hash", "dir", "pickle", "del", "inspect", "buffiter", "oldslicing", "ctxexit", "instancecheck",
    ];

    public static string Of(HandlerId handler)
    {
        int code = (int)handler;
        return (uint)code < (uint)s_names.Length ? s_names[code] : "handler_" + code.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}
