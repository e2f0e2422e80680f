using System.Text;

namespace Stencil.Reliability.Fuzz;

/// <summary>
/// Turns seeds into damaged inputs: bit flips, interesting bytes, inserts, deletes, duplicated and
/// spliced ranges, dictionary tokens, numbers swapped for edge values (textual formats). One to eight
/// mutations are stacked per input. Deterministic: the same seed gives the same inputs.
/// </summary>
public sealed class Mutator(IReadOnlyList<byte[]> seeds, IReadOnlyList<byte[]> dictionary, Random random)
{
    /// <summary>Inputs never grow beyond this (1 MiB): memory use is about the parser, not the input.</summary>
    public const int MaxInputLength = 1 << 20;

    private static readonly byte[] s_interestingBytes = [0x00, 0x01, 0x7f, 0x80, 0xff, (byte)'"', (byte)'\\', (byte)'\n', (byte)'[', (byte)'{', (byte)'}', (byte)']'];

    private static readonly string[] s_edgeNumbers =
    [
        "0", "-1", "1", "-0", "2147483647", "2147483648", "-2147483649", "4294967295", "4294967296",
        "9223372036854775807", "9223372036854775808", "-9223372036854775809", "18446744073709551616",
        "1e308", "1e309", "-1e309", "0.5", "1.0", "NaN", "inf", "0x10", "1_000", "00", "99999999999999999999999999",
    ];

    public byte[] Next()
    {
        var input = new List<byte>(seeds[random.Next(seeds.Count)]);
        for (var n = 1 + random.Next(random.Next(2) == 0 ? 2 : 8); n > 0; n--)
            Mutate(input);
        if (input.Count > MaxInputLength)
            input.RemoveRange(MaxInputLength, input.Count - MaxInputLength);
        return [.. input];
    }

    private void Mutate(List<byte> input)
    {
        switch (random.Next(11))
        {
            case 0 when input.Count > 0:
                input[random.Next(input.Count)] ^= (byte)(1 << random.Next(8));
                break;
            case 1 when input.Count > 0:
                input[random.Next(input.Count)] = s_interestingBytes[random.Next(s_interestingBytes.Length)];
                break;
            case 2:
                var bytes = new byte[1 + random.Next(8)];
                random.NextBytes(bytes);
                input.InsertRange(random.Next(input.Count + 1), bytes);
                break;
            case 3 when input.Count > 0:
                var start = random.Next(input.Count);
                input.RemoveRange(start, Math.Min(input.Count - start, 1 + random.Next(Math.Max(1, input.Count / 4))));
                break;
            case 4 when input.Count > 0:
                // A range repeated many times: deep nesting, long arrays, long lines.
                var from = random.Next(input.Count);
                var length = Math.Min(input.Count - from, 1 + random.Next(16));
                var range = input.GetRange(from, length);
                for (var copies = 1 + random.Next(random.Next(2) == 0 ? 4 : 2000); copies > 0 && input.Count < MaxInputLength; copies--)
                    input.InsertRange(from, range);
                break;
            case 5:
                // Splice: the head of this input with the tail of another seed.
                var other = seeds[random.Next(seeds.Count)];
                var cut = random.Next(input.Count + 1);
                var otherCut = random.Next(other.Length + 1);
                input.RemoveRange(cut, input.Count - cut);
                input.AddRange(other.AsSpan(otherCut).ToArray());
                break;
            case 6 when dictionary.Count > 0:
                input.InsertRange(random.Next(input.Count + 1), dictionary[random.Next(dictionary.Count)]);
                break;
            case 7 when dictionary.Count > 0 && input.Count > 0:
                var token = dictionary[random.Next(dictionary.Count)];
                var at = random.Next(input.Count);
                input.RemoveRange(at, Math.Min(token.Length, input.Count - at));
                input.InsertRange(at, token);
                break;
            case 8:
                ReplaceNumber(input);
                break;
            case 9 when input.Count > 0:
                // Truncation: the input ends mid-token, mid-frame.
                var keep = random.Next(input.Count + 1);
                input.RemoveRange(keep, input.Count - keep);
                break;
            default:
                // A 32-bit big-endian length somewhere (binary formats: frame headers, protobuf lengths).
                if (input.Count >= 4)
                {
                    var p = random.Next(input.Count - 3);
                    var value = random.Next(4) switch { 0 => 0u, 1 => uint.MaxValue, 2 => (uint)random.Next(), _ => (uint)random.Next(256) };
                    input[p] = (byte)(value >> 24);
                    input[p + 1] = (byte)(value >> 16);
                    input[p + 2] = (byte)(value >> 8);
                    input[p + 3] = (byte)value;
                }
                break;
        }
    }

    /// <summary>Swaps a run of ASCII digits for an edge value (a no-op for input without digits).</summary>
    private void ReplaceNumber(List<byte> input)
    {
        if (input.Count == 0)
            return;
        var start = random.Next(input.Count);
        while (start < input.Count && !char.IsAsciiDigit((char)input[start]))
            start++;
        if (start == input.Count)
            return;
        var end = start;
        while (end < input.Count && char.IsAsciiDigit((char)input[end]))
            end++;
        input.RemoveRange(start, end - start);
        input.InsertRange(start, Encoding.ASCII.GetBytes(s_edgeNumbers[random.Next(s_edgeNumbers.Length)]));
    }
}
