using System.Globalization;
using System.Text.RegularExpressions;

namespace Stencil.Containerd;

/// <summary>A containerd release as its version service or `containerd --version` names it.</summary>
/// <param name="Text">The version as containerd gave it ("v2.1.9", "1.6.20~ds1", "2.1.9+unknown").</param>
public sealed partial record ContainerdVersion(int Major, int Minor, int Patch, string Text)
{
    /// <summary>The first "MAJOR.MINOR.PATCH" in <paramref name="text"/> (a leading "v" and any suffix
    /// such as Debian's "~ds1" allowed), or null.</summary>
    public static ContainerdVersion? TryParse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
            return null;
        var m = Numbers().Match(text);
        if (!m.Success)
            return null;
        static int N(Group g) => int.Parse(g.Value, NumberStyles.None, CultureInfo.InvariantCulture);
        return new ContainerdVersion(N(m.Groups[1]), N(m.Groups[2]), N(m.Groups[3]), text.Trim());
    }

    /// <summary>From the output of `containerd --version`
    /// ("containerd github.com/containerd/containerd/v2 2.1.9+unknown "): the third word.</summary>
    public static ContainerdVersion? FromVersionCommand(string output)
    {
        var words = output.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        return words.Length >= 3 ? TryParse(words[2]) : null;
    }

    public bool AtLeast(int major, int minor) => Major > major || (Major == major && Minor >= minor);

    public override string ToString() => $"{Major}.{Minor}.{Patch}";

    [GeneratedRegex(@"(?<![0-9])v?([0-9]{1,4})\.([0-9]{1,4})\.([0-9]{1,6})")]
    private static partial Regex Numbers();
}
