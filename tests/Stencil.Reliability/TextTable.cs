namespace Stencil.Reliability;

/// <summary>Rows of cells printed as a Markdown table with padded columns (readable as text, pasteable into a note).</summary>
public static class TextTable
{
    public static void Write(TextWriter output, IReadOnlyList<string[]> rows)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(rows);
        var widths = Enumerable.Range(0, rows[0].Length).Select(c => rows.Max(r => r[c].Length)).ToArray();
        for (var i = 0; i < rows.Count; i++)
        {
            output.WriteLine("| " + string.Join(" | ", rows[i].Select((cell, c) => cell.PadRight(widths[c]))) + " |");
            if (i == 0)
                output.WriteLine("|" + string.Join("|", widths.Select(w => new string('-', w + 2))) + "|");
        }
    }
}
