namespace Stencil.Containerd;

/// <summary>Which containerd releases Stencil runs with, and how it talks to each. Pure.</summary>
/// <remarks>
/// Tested releases (the test matrix, `make test`): 1.6.20 (Debian 12), 1.7.24 (Debian 13), 2.1.9
/// (Debian sid). 1.6 is past its end of life upstream but still Debian 12's. Older than 1.6 lacks the
/// shim v2 behaviour Stencil relies on; a minor release newer than the newest tested one is run, with
/// a warning from `stencil check`.
/// </remarks>
public static class ContainerdSupport
{
    /// <summary>The newest release the test matrix covers.</summary>
    public static ContainerdVersion NewestTested { get; } = new(2, 1, 9, "2.1.9");

    /// <summary>"supported", "untested" (newer than <see cref="NewestTested"/>) or "unsupported", and why.</summary>
    public static (string Verdict, string Why) Describe(ContainerdVersion version)
    {
        if (!version.AtLeast(1, 6))
            return ("unsupported", $"containerd {version} is older than 1.6, the oldest release Stencil runs with");
        if (version.Major > NewestTested.Major || (version.Major == NewestTested.Major && version.Minor > NewestTested.Minor))
            return ("untested", $"containerd {version} is newer than {NewestTested.Major}.{NewestTested.Minor}, the newest release Stencil is tested with");
        var note = version.Major == 1 && version.Minor == 6 ? " (past its end of life upstream; 1.7 or 2.x recommended)" : "";
        var config = version.Major >= 2 ? "config version 3, io.containerd.cri.v1.runtime" : "config version 2, io.containerd.grpc.v1.cri";
        return ("supported", $"containerd {version}{note}; {config}");
    }

    /// <summary>
    /// The task API version the shim announces at `start` (containerd's bootstrap "version"): 3 to
    /// containerd 2.x (containerd.task.v3.Task), 2 to 1.7 (which refuses anything above 2).
    /// </summary>
    public static int TaskApiVersion(ContainerdVersion? version) => version is { Major: >= 2 } ? 3 : 2;
}
