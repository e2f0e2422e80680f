namespace Stencil.Reliability.Fuzz;

/// <summary>One input that crashed a parser or went over a limit: what happened, and the bytes to reproduce it.</summary>
public sealed record FuzzFinding(int Iteration, string What, byte[] Input)
{
    /// <summary>The input as base64, cut at 4 KiB (the full input is written to the crash folder when one is given).</summary>
    public string InputPreview => Input.Length <= 4096 ? Convert.ToBase64String(Input) : Convert.ToBase64String(Input, 0, 4096) + "...";

    public override string ToString() => $"iteration {Iteration} ({Input.Length} bytes): {What}\n    input (base64): {InputPreview}";
}
