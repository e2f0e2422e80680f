namespace Stencil.Shim.Tests;

/// <summary>A scratch folder under /tmp/stencil-test-*, removed with everything in it.</summary>
internal sealed class TempDir : IDisposable
{
    public TempDir()
    {
        // Short on purpose: socket paths below it must stay under 108 bytes.
        Path = Directory.CreateTempSubdirectory("stencil-test-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public string WriteFile(string name, string content)
    {
        var path = Combine(name);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose()
    {
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}
