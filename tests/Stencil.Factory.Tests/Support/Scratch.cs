namespace Stencil.Factory.Tests.Support;

/// <summary>Folders for one VM under a scratch root: run/ (sockets, console) and shared/ (the 9p export).</summary>
public static class Scratch
{
    public static VmRequest Request(string root, string name)
    {
        var dir = Path.Combine(root, name);
        Directory.CreateDirectory(Path.Combine(dir, "run"));
        Directory.CreateDirectory(Path.Combine(dir, "shared"));
        return new VmRequest(name, Path.Combine(dir, "run"), Path.Combine(dir, "shared"));
    }

    /// <summary>Removes a VM's folders (after the VM is disposed: nothing is mounted in them).</summary>
    public static void Remove(string root, string name)
    {
        var dir = Path.Combine(root, name);
        if (Directory.Exists(dir))
            Directory.Delete(dir, recursive: true);
    }

    /// <summary>cp --sparse=always of a template folder into another template root (tests of one template's fate).</summary>
    public static void CopyTemplate(string fromDirectory, string toRoot)
    {
        var target = Path.Combine(toRoot, Path.GetFileName(fromDirectory));
        using var p = System.Diagnostics.Process.Start("cp", ["-a", "--sparse=always", fromDirectory, target]);
        p.WaitForExit();
        Assert.Equal(0, p.ExitCode);
    }
}
