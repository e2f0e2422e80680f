using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.Agent.Containers;

/// <summary>
/// A copy of the OCI runtime's binary in a memfd sealed against any change, which the agent runs
/// the runtime from (through /proc/PID/fd/N).
///
/// Why: crun (like runc 1.1; runc 1.2 no longer copies itself) defends against CVE-2019-5736 (a container process overwriting the
/// runtime's binary through /proc/self/exe of a runtime process that joined the container) by
/// copying its own binary into a sealed memfd and re-executing itself from it, on every call,
/// unless /proc/self/exe already is a memfd with exactly the seals SEAL, SHRINK, GROW and WRITE.
/// Its cheaper way, a read-only bind mount of the binary, fails in the guest (EINVAL), so every
/// crun call copied 600 KiB: under TCG 60-120 ms of each create, exec, kill and delete (measured
/// with strace in the guest: sendfile of /proc/self/exe, 116 ms of a 385 ms `crun state`). Made
/// once when the agent starts, the copy is in a template's memory, shared by its clones; the
/// protection is the same (nothing can write a sealed memfd), paid once instead of per call.
/// </summary>
internal sealed class SealedBinary : IDisposable
{
    /// <summary>What crun and runc test for: these four seals and no other (linux/fcntl.h values).</summary>
    internal const int RuntimeSeals = FSealSeal | FSealShrink | FSealGrow | FSealWrite;

    private const int FSealSeal = 0x1;
    private const int FSealShrink = 0x2;
    private const int FSealGrow = 0x4;
    private const int FSealWrite = 0x8;
    private const int MfdCloexec = 0x1;
    private const int MfdAllowSealing = 0x2;

    /// <summary>Larger than any OCI runtime binary (crun 0.6 MiB, runc 10-15 MiB); a bigger file is not copied.</summary>
    private const long MaxSize = 64L << 20;

    private readonly SafeFileHandle _memfd;

    private SealedBinary(SafeFileHandle memfd)
    {
        _memfd = memfd;
        ExecPath = $"/proc/{Environment.ProcessId}/fd/{memfd.DangerousGetHandle()}";
    }

    /// <summary>The path to execute: the memfd through the agent's fd table (the fd is close-on-exec, so no child inherits it).</summary>
    internal string ExecPath { get; }

    /// <summary>The sealed copy of <paramref name="path"/>, or null and why not.</summary>
    internal static SealedBinary? TryCreate(string path, out string? whyNot)
    {
        whyNot = null;
        byte[] content;
        try
        {
            var length = new FileInfo(path).Length;
            if (length > MaxSize)
            {
                whyNot = $"{path} is {length} bytes, more than the {MaxSize} copied";
                return null;
            }
            content = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            whyNot = $"cannot read {path}: {e.Message}";
            return null;
        }
        var memfd = Libc.MemfdCreate("stencil-sealed:" + Path.GetFileName(path), MfdCloexec | MfdAllowSealing);
        if (memfd.IsInvalid)
        {
            whyNot = $"memfd_create failed: errno {Errno.Last}";
            memfd.Dispose();
            return null;
        }
        try
        {
            RandomAccess.Write(memfd, content, 0);
            if (Libc.Fcntl(memfd, LibC.F_ADD_SEALS, RuntimeSeals) != 0)
            {
                whyNot = $"F_ADD_SEALS failed: errno {Errno.Last}";
                memfd.Dispose();
                return null;
            }
            var seals = Libc.Fcntl(memfd, LibC.F_GET_SEALS, 0);
            if (seals != RuntimeSeals)
            {
                whyNot = $"the memfd's seals are 0x{seals:x}, not 0x{RuntimeSeals:x}";
                memfd.Dispose();
                return null;
            }
            return new SealedBinary(memfd);
        }
        catch (IOException e)
        {
            whyNot = $"cannot write the memfd: {e.Message}";
            memfd.Dispose();
            return null;
        }
    }

    public void Dispose() => _memfd.Dispose();
}
