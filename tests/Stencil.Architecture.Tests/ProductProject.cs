using System.Xml.Linq;

namespace Stencil.Architecture.Tests;

/// <summary>
/// One project under src/ or shim/ as its csproj file declares it: its name (the file name) and the
/// full paths of the projects it references (ProjectReference items, resolved against its folder).
/// </summary>
public sealed record ProductProject(string Name, string Path, IReadOnlyList<string> References)
{
    /// <summary>Every csproj under <paramref name="root"/>/src and <paramref name="root"/>/shim.</summary>
    public static IReadOnlyList<ProductProject> ReadAll(string root) =>
        [.. new[] { "src", "shim" }
            .Select(folder => System.IO.Path.Combine(root, folder))
            .Where(Directory.Exists)
            .SelectMany(folder => Directory.EnumerateFiles(folder, "*.csproj", SearchOption.AllDirectories))
            .Where(path => !path.Contains("/obj/", StringComparison.Ordinal) && !path.Contains("/bin/", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
            .Select(Read)];

    public static ProductProject Read(string csproj)
    {
        var folder = System.IO.Path.GetDirectoryName(csproj)!;
        var references = XDocument.Load(csproj).Descendants()
            .Where(e => e.Name.LocalName == "ProjectReference")
            .Select(e => e.Attribute("Include")?.Value ?? throw new InvalidDataException($"{csproj}: a ProjectReference without Include"))
            .Select(include => System.IO.Path.GetFullPath(System.IO.Path.Combine(folder, include.Replace('\\', '/'))))
            .ToList();
        return new ProductProject(System.IO.Path.GetFileNameWithoutExtension(csproj), csproj, references);
    }

    /// <summary>A referenced project's name: its csproj file name without the extension.</summary>
    public static string NameOf(string referencePath) => System.IO.Path.GetFileNameWithoutExtension(referencePath);
}
