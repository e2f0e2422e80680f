using Stencil.Agent.Containers;
using Stencil.TestSupport;
using Tmds.Linux;

namespace Stencil.Agent.Tests.Host;

/// <summary>
/// The sealed copy of the OCI runtime the agent runs crun from, against the host's real crun and
/// kernel: crun sees the copy as already protected and skips its own per-call defence against
/// CVE-2019-5736 (the copy into a memfd in the guest, a read-only bind mount where the host allows it),
/// and nothing can write the copy.
/// </summary>
public sealed class SealedBinaryTests
{
    [Fact]
    public async Task Crun_run_from_the_sealed_copy_does_not_protect_its_binary_again()
    {
        var crun = Prerequisite.Executable("crun", "apt-get install crun");
        var strace = Prerequisite.Executable("strace", "apt-get install strace");
        using var copy = SealedBinary.TryCreate(crun, out var whyNot);
        Assert.True(copy is not null, whyNot);

        var direct = await TraceAsync(strace, crun);
        var fromCopy = await TraceAsync(strace, copy.ExecPath);

        // Run from its file, crun protects itself first: a bind mount of /proc/self/exe or a memfd copy.
        Assert.True(direct.Contains("\"/proc/self/exe\"", StringComparison.Ordinal) || direct.Contains("memfd_create(", StringComparison.Ordinal), direct);
        Assert.DoesNotContain("\"/proc/self/exe\"", fromCopy);
        Assert.DoesNotContain("memfd_create(", fromCopy);
        Assert.Contains("crun version", await VersionAsync(copy.ExecPath));
    }

    [Fact]
    public void The_copy_has_exactly_the_seals_crun_checks_and_cannot_be_written()
    {
        var crun = Prerequisite.Executable("crun", "apt-get install crun");
        using var copy = SealedBinary.TryCreate(crun, out var whyNot);
        Assert.True(copy is not null, whyNot);

        // What crun does with /proc/self/exe: open it and ask for the seals.
        using (var reopened = File.OpenHandle(copy.ExecPath, FileMode.Open, FileAccess.Read))
            Assert.Equal(SealedBinary.RuntimeSeals, LibC.fcntl((int)reopened.DangerousGetHandle(), LibC.F_GET_SEALS, 0));
        Assert.Equal(File.ReadAllBytes(crun), File.ReadAllBytes(copy.ExecPath));
        // F_SEAL_WRITE: writing through any fd of it fails (EPERM), as through /proc/PID/exe of a runtime process.
        Assert.ThrowsAny<Exception>(() =>
        {
            using var writable = File.OpenHandle(copy.ExecPath, FileMode.Open, FileAccess.Write);
            RandomAccess.Write(writable, "x"u8, 0);
        });
        Assert.Equal(File.ReadAllBytes(crun), File.ReadAllBytes(copy.ExecPath));
    }

    [Fact]
    public void A_missing_binary_gives_no_copy_and_the_reason()
    {
        Assert.Null(SealedBinary.TryCreate("/nonexistent/crun", out var whyNot));
        Assert.Contains("/nonexistent/crun", whyNot);
    }

    private static async Task<string> TraceAsync(string strace, string executable)
    {
        var log = Path.GetTempFileName();
        try
        {
            (await ChildProcess.RunAsync(strace, ["-f", "-e", "trace=mount,memfd_create,open_tree", "-o", log, executable, "--version"],
                TimeSpan.FromSeconds(60))).EnsureSuccess("strace crun --version");
            return await File.ReadAllTextAsync(log);
        }
        finally
        {
            File.Delete(log);
        }
    }

    private static async Task<string> VersionAsync(string executable)
    {
        var result = await ChildProcess.RunAsync(executable, ["--version"], TimeSpan.FromSeconds(60));
        result.EnsureSuccess("crun --version");
        return result.Stdout;
    }
}
