using Xunit;

namespace Stencil.TestSupport;

/// <summary>
/// The container image the tests run: an OCI image tarball built from Debian's busybox-static by
/// scripts/busybox-image.sh (deterministic, no registry needed) and imported into a private
/// containerd with `ctr image import`.
/// </summary>
public static class BusyboxImage
{
    /// <summary>The reference the script tags the image with unless told otherwise.</summary>
    public const string Reference = "docker.io/library/busybox:latest";

    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(120);

    /// <summary>
    /// Writes the image tarball <paramref name="tar"/>, tagged <paramref name="reference"/>, with
    /// <paramref name="entrypoint"/> (a JSON array) when given; fails the test when the script fails.
    /// </summary>
    public static async Task BuildAsync(string tar, string reference = Reference, string? entrypoint = null)
    {
        Prerequisite.File("/bin/busybox", "make deps (apt-get install busybox-static)");
        string[] args = entrypoint is null ? [tar, reference] : [tar, reference, entrypoint];
        var build = await ChildProcess.RunAsync(Path.Combine(RepoPaths.Root, "scripts", "busybox-image.sh"), args, s_timeout).ConfigureAwait(false);
        Assert.True(build.ExitCode == 0, $"busybox-image.sh {string.Join(' ', args)} exited {build.ExitCode}: {build.Stderr}");
    }

    /// <summary>Imports the tarball <paramref name="tar"/> into <paramref name="namespace"/> of <paramref name="containerd"/>; fails the test when ctr fails.</summary>
    public static async Task ImportAsync(PrivateContainerd containerd, string @namespace, string tar, TimeSpan? timeout = null)
    {
        var import = await containerd.CtrAsync(@namespace, ["image", "import", tar], timeout ?? s_timeout).ConfigureAwait(false);
        Assert.True(import.ExitCode == 0, $"ctr image import {tar}: {import.Stderr}");
    }

    /// <summary><see cref="BuildAsync"/> into <paramref name="folder"/>/busybox.tar, then <see cref="ImportAsync"/>.</summary>
    public static async Task BuildAndImportAsync(PrivateContainerd containerd, string @namespace, string folder, TimeSpan? timeout = null)
    {
        var tar = Path.Combine(folder, "busybox.tar");
        await BuildAsync(tar).ConfigureAwait(false);
        await ImportAsync(containerd, @namespace, tar, timeout).ConfigureAwait(false);
    }
}
