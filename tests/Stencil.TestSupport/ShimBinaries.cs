namespace Stencil.TestSupport;

/// <summary>
/// The published executables the tests run, each in one place. `make publish` writes them; the tests
/// never build them, so a missing one fails with the command that provides it (<see cref="Prerequisite"/>).
/// </summary>
public static class ShimBinaries
{
    /// <summary>build/bin/containerd-shim-stencil-v2: the product's NativeAOT shim, booting real VMs.</summary>
    public static string Shim => Path.Combine(RepoPaths.Build, "bin", "containerd-shim-stencil-v2");

    /// <summary>
    /// build/test-bin/containerd-shim-stencil-v2: the same shim program around a simulated pod runtime
    /// (tests/Stencil.Shim.TestHost), for driving the shim's containerd contract without a VM.
    /// </summary>
    public static string TestHostShim => Path.Combine(RepoPaths.Build, "test-bin", "containerd-shim-stencil-v2");

    /// <summary>build/bin/stencil: the administrator's command line tool.</summary>
    public static string Cli => Path.Combine(RepoPaths.Build, "bin", "stencil");

    /// <summary>The product shim's path, after checking it was published.</summary>
    public static string RequireShim()
    {
        Prerequisite.File(Shim, "make publish");
        return Shim;
    }

    /// <summary>The test host shim's path, after checking it was published.</summary>
    public static string RequireTestHostShim()
    {
        Prerequisite.File(TestHostShim, "make publish (tests/Stencil.Shim.TestHost -> build/test-bin)");
        return TestHostShim;
    }

    /// <summary>The `stencil` tool's path, after checking it was published.</summary>
    public static string RequireCli()
    {
        Prerequisite.File(Cli, "make publish");
        return Cli;
    }

    /// <summary>
    /// This process's PATH with <paramref name="binary"/>'s folder first: containerd finds a shim
    /// (containerd-shim-stencil-v2 for runtime io.containerd.stencil.v2) on its PATH, so this is how a
    /// private containerd is pointed at one of the binaries above.
    /// </summary>
    public static string PathWithFolderOf(string binary) =>
        $"{Path.GetDirectoryName(binary)}:{Environment.GetEnvironmentVariable("PATH")}";
}
