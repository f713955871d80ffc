using System.Globalization;
using System.Text;

namespace Rpyc.Telemetry.Tests;

// RPyC 6.x frames written byte by byte, for tests that feed the relay or its recorder what no real
// peer would send (requests never answered, replies to nothing) or timings they choose.
internal static class RawFrames
{
    // 6.x MSG_REQUEST: 0x01 | TAG_TUP2 | seq | (HANDLE_GETROOT, (LABEL_TUPLE, ())).
    public static byte[] GetRootRequest(int seq) => Frame([0x01, 0x11, .. Int(seq), 0x11, 0x50 + 3, 0x11, 0x50 + 2, 0x02]);

    // 6.x MSG_REPLY: 0x02 | TAG_TUP2 | seq | (LABEL_VALUE, None).
    public static byte[] Reply(int seq) => Frame([0x02, 0x11, .. Int(seq), 0x11, 0x50 + 1, 0x00]);

    // brine.py: an immediate int up to 159, else TAG_INT_L1 and its decimal digits.
    public static byte[] Int(int value) =>
        value <= 159 ? [(byte)(value + 0x50)] : [0x16, (byte)value.ToString(CultureInfo.InvariantCulture).Length, .. Encoding.ASCII.GetBytes(value.ToString(CultureInfo.InvariantCulture))];

    // channel.py: uint32 big-endian length | uint8 compressed | payload | one trailing byte.
    public static byte[] Frame(byte[] payload) =>
        [(byte)(payload.Length >> 24), (byte)(payload.Length >> 16), (byte)(payload.Length >> 8), (byte)payload.Length, 0, .. payload, 0];
}
