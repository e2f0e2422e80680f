using System.Diagnostics;
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using Stencil.TestSupport;

namespace Stencil.Hypervisor.Tests.Support;

/// <summary>
/// A tap device inside a network namespace created for one test, opened from this process the way
/// the shim will: a thread joins the namespace (setns), opens /dev/net/tun and attaches to the tap
/// (TUNSETIFF), and the fd keeps working after the thread leaves. Dispose closes the fd and deletes
/// the namespace (and with it the tap).
/// </summary>
internal sealed unsafe partial class NetnsTap : IDisposable
{
    private const int CLONE_NEWNET = 0x40000000;
    private const uint TUNSETIFF = 0x400454ca;
    private const short IFF_TAP = 0x0002;
    private const short IFF_NO_PI = 0x1000;

    private readonly string _ip;

    private NetnsTap(string ip, string netns, SafeFileHandle fd)
    {
        _ip = ip;
        Namespace = netns;
        Fd = fd;
    }

    public string Namespace { get; }

    public string TapName => "tap0";

    public SafeFileHandle Fd { get; }

    public static NetnsTap Create()
    {
        var ip = Prerequisite.Executable("ip", "apt-get install iproute2");
        var netns = "stencil-test-" + Guid.NewGuid().ToString("N")[..8];
        Run(ip, "netns", "add", netns);
        try
        {
            Run(ip, "-n", netns, "tuntap", "add", "dev", "tap0", "mode", "tap");
            return new NetnsTap(ip, netns, OpenTapInNamespace("/run/netns/" + netns, "tap0"));
        }
        catch
        {
            Run(ip, "netns", "del", netns);
            throw;
        }
    }

    public void Dispose()
    {
        Fd.Dispose();
        Run(_ip, "netns", "del", Namespace);
    }

    private static SafeFileHandle OpenTapInNamespace(string netnsPath, string tapName)
    {
        SafeFileHandle? tap = null;
        Exception? error = null;
        // setns changes the calling thread only: use a thread of our own, which ends right after.
        var thread = new Thread(() =>
        {
            try
            {
                using var original = File.OpenHandle("/proc/thread-self/ns/net");
                using var target = File.OpenHandle(netnsPath);
                Check(setns(target, CLONE_NEWNET), "setns " + netnsPath);
                try
                {
                    var fd = File.OpenHandle("/dev/net/tun", FileMode.Open, FileAccess.ReadWrite);
                    var ifreq = stackalloc byte[40];
                    new Span<byte>(ifreq, 40).Clear();
                    System.Text.Encoding.ASCII.GetBytes(tapName).CopyTo(new Span<byte>(ifreq, 16));
                    *(short*)(ifreq + 16) = IFF_TAP | IFF_NO_PI;
                    if (ioctl(fd, TUNSETIFF, ifreq) != 0)
                    {
                        var errno = Marshal.GetLastPInvokeError();
                        fd.Dispose();
                        throw new IOException($"TUNSETIFF {tapName}: {Marshal.GetPInvokeErrorMessage(errno)}");
                    }
                    tap = fd;
                }
                finally
                {
                    Check(setns(original, CLONE_NEWNET), "setns back");
                }
            }
            catch (Exception ex)
            {
                error = ex;
            }
        });
        thread.Start();
        thread.Join();
        return tap ?? throw new InvalidOperationException("opening the tap failed: " + error?.Message, error);
    }

    private static void Check(int result, string what)
    {
        if (result != 0)
            throw new IOException($"{what}: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
    }

    private static void Run(string file, params string[] args)
    {
        var startInfo = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var arg in args)
            startInfo.ArgumentList.Add(arg);
        using var process = Process.Start(startInfo)!;
        var stderr = process.StandardError.ReadToEnd();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Trim()}");
    }

    [LibraryImport("libc", SetLastError = true)]
    private static partial int setns(SafeFileHandle fd, int nstype);

    [LibraryImport("libc", SetLastError = true)]
    private static partial int ioctl(SafeFileHandle fd, nuint request, void* argument);
}
