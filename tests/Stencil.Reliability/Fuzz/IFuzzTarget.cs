namespace Stencil.Reliability.Fuzz;

/// <summary>
/// One parser under the fuzzer: valid inputs to start from, tokens its format is made of, and one run
/// over an input. <see cref="Run"/> returns normally or throws the component's documented parse error;
/// anything else escaping it is a crash (see <see cref="IsExpected"/>).
/// </summary>
public interface IFuzzTarget
{
    /// <summary>The command-line name ("oci", "toml", "qmp", "ttrpc").</summary>
    string Name { get; }

    /// <summary>Valid inputs the mutations start from.</summary>
    IReadOnlyList<byte[]> Seeds { get; }

    /// <summary>Fragments of the format (keywords, delimiters, numbers at the edges) spliced into inputs.</summary>
    IReadOnlyList<byte[]> Dictionary { get; }

    /// <summary>
    /// Feeds <paramref name="input"/> to the component; <paramref name="random"/> drives choices such as
    /// chunking and limits. Null (the seeds' runs): as the component meets input normally, whole and
    /// under its default limits, so that a seed must be accepted.
    /// </summary>
    void Run(byte[] input, Random? random);

    /// <summary>Whether an exception thrown by <see cref="Run"/> is the component's way of refusing bad input.</summary>
    bool IsExpected(Exception exception);
}
