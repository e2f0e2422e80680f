using System.Text;

namespace Stencil.Reliability.Fuzz.Targets;

/// <summary>Seeds and dictionaries written as text, stored as the UTF-8 bytes the fuzzer works on.</summary>
internal static class Utf8Seeds
{
    public static IReadOnlyList<byte[]> Of(params string[] texts) => [.. texts.Select(Encoding.UTF8.GetBytes)];
}
