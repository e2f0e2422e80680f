namespace Stencil.TestSupport;

/// <summary>Where the repository and its build outputs are, found from the test assembly's location.</summary>
public static class RepoPaths
{
    private static readonly Lazy<string> s_root = new(FindRoot);

    public static string Root => s_root.Value;

    /// <summary>build/ at the repository root: guest image, published binaries, test scratch.</summary>
    public static string Build => Path.Combine(Root, "build");

    public static string GuestDir => Path.Combine(Build, "guest");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Runtime.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"Runtime.sln not found above {AppContext.BaseDirectory}");
    }
}
