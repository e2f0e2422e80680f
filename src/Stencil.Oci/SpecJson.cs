using System.Text.Json;
using Stencil.Oci.Internal;
using Stencil.Oci.Model;

namespace Stencil.Oci;

/// <summary>Reads and writes runtime-spec JSON. Pure: bytes in, model out, or an error naming the place.</summary>
public static class SpecJson
{
    /// <param name="source">Named in errors, e.g. "/run/bundle/config.json".</param>
    public static Spec ParseSpec(ReadOnlySpan<byte> json, string source)
    {
        ThrowIfNotText(json, source);
        try
        {
            return JsonSerializer.Deserialize(json, OciJsonContext.Default.Spec)
                ?? throw StencilException.InvalidArgument($"{source}: the document is null, expected an object");
        }
        catch (JsonException ex)
        {
            throw StencilException.InvalidArgument($"{source}: not a valid runtime spec: {Describe(ex)}");
        }
    }

    /// <summary>An exec's process (the Any that `ctr task exec` sends is this JSON).</summary>
    public static Process ParseProcess(ReadOnlySpan<byte> json, string source)
    {
        ThrowIfNotText(json, source);
        try
        {
            return JsonSerializer.Deserialize(json, OciJsonContext.Default.Process)
                ?? throw StencilException.InvalidArgument($"{source}: the document is null, expected a process object");
        }
        catch (JsonException ex)
        {
            throw StencilException.InvalidArgument($"{source}: not a valid process: {Describe(ex)}");
        }
    }

    public static byte[] Serialize(Spec spec) => JsonSerializer.SerializeToUtf8Bytes(spec, OciJsonContext.Default.Spec);

    public static byte[] Serialize(Process process) => JsonSerializer.SerializeToUtf8Bytes(process, OciJsonContext.Default.Process);

    /// <summary>
    /// Refuses what is not text before the deserializer sees it (<see cref="JsonText"/>): System.Text.Json
    /// would read a lone surrogate escape and fail only when the spec is written again for the guest.
    /// Go's decoder, containerd's, turns both into U+FFFD, so neither comes from containerd; found by
    /// the fuzzer (tests/Stencil.Reliability).
    /// </summary>
    private static void ThrowIfNotText(ReadOnlySpan<byte> json, string source)
    {
        if (JsonText.FindNonText(json) is { } problem)
            throw StencilException.InvalidArgument($"{source}: not a valid runtime spec: {problem}");
    }

    private static string Describe(JsonException ex)
    {
        // System.Text.Json's message already carries the path ("$.process.args") and position; keep
        // only its first sentence so the error stays one line.
        var message = ex.Message;
        var cut = message.IndexOf(". Path:", StringComparison.Ordinal);
        var head = cut > 0 ? message[..cut] : message;
        return ex.Path is null ? head : $"{head} at {ex.Path} (line {ex.LineNumber + 1}, byte {ex.BytePositionInLine})";
    }
}
