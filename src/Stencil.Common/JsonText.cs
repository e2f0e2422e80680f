using System.Text;
using System.Text.Unicode;

namespace Stencil;

/// <summary>
/// Whether JSON bytes from a peer are text, checked before a parser sees them. System.Text.Json checks
/// the structure but not the strings: invalid UTF-8 inside a string, and an escape that is half a
/// UTF-16 surrogate pair ("\ud800" alone), fail only later, wherever the string is read, compared or
/// written again, and as InvalidOperationException rather than the parser's error. Pure.
/// </summary>
public static class JsonText
{
    /// <summary>What in <paramref name="json"/> is not text, with its byte offset; null when it all is.</summary>
    public static string? FindNonText(ReadOnlySpan<byte> json)
    {
        if (!Utf8.IsValid(json))
        {
            var valid = 0;
            while (Rune.DecodeFromUtf8(json[valid..], out _, out var consumed) == System.Buffers.OperationStatus.Done)
                valid += consumed;
            return $"byte {valid} is not valid UTF-8";
        }
        var at = FindUnpairedSurrogateEscape(json);
        return at < 0 ? null : $"the escape {Encoding.ASCII.GetString(json.Slice(at, 6))} at byte {at} is half of a UTF-16 surrogate pair, not text";
    }

    /// <summary>The byte offset of the first unpaired surrogate escape in <paramref name="json"/>, or -1.</summary>
    private static int FindUnpairedSurrogateEscape(ReadOnlySpan<byte> json)
    {
        for (var i = 0; i < json.Length; i++)
        {
            if (json[i] != (byte)'\\')
                continue;
            if (i + 1 >= json.Length)
                return -1;
            if (json[i + 1] != (byte)'u' || !TryReadHex(json, i + 2, out var unit))
            {
                i++; // "\\", "\n", ...: the escaped character does not start another escape
                continue;
            }
            if (char.IsLowSurrogate((char)unit))
                return i;
            if (char.IsHighSurrogate((char)unit))
            {
                var next = i + 6;
                if (next + 1 >= json.Length || json[next] != (byte)'\\' || json[next + 1] != (byte)'u'
                    || !TryReadHex(json, next + 2, out var low) || !char.IsLowSurrogate((char)low))
                    return i;
                i = next + 5;
                continue;
            }
            i += 5;
        }
        return -1;
    }

    private static bool TryReadHex(ReadOnlySpan<byte> json, int start, out int value)
    {
        value = 0;
        if (start + 4 > json.Length)
            return false;
        for (var k = start; k < start + 4; k++)
        {
            var digit = HexDigit(json[k]);
            if (digit < 0)
                return false;
            value = (value << 4) | digit;
        }
        return true;
    }

    private static int HexDigit(byte b) => b switch
    {
        >= (byte)'0' and <= (byte)'9' => b - '0',
        >= (byte)'a' and <= (byte)'f' => b - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => b - 'A' + 10,
        _ => -1,
    };
}
