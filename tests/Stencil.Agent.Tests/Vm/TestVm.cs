using System.Diagnostics;
using System.Globalization;
using Stencil.Agent.Client;
using Stencil.TestSupport;

namespace Stencil.Agent.Tests.Vm;

/// <summary>
/// A minimal QEMU launcher for these tests (the hypervisor library will replace it): q35, SeaBIOS,
/// one vCPU, the guest image from `make guest`, the agent's virtio-serial port on a unix socket,
/// optionally a 9p share and a NIC. KVM when usable, TCG otherwise. Disposing kills QEMU and
/// deletes the scratch folder.
/// </summary>
public sealed class TestVm : IAsyncDisposable
{
    public const string ShareTag = "stencil";
    public const string Mac = "52:54:00:12:34:56";

    private readonly Process _qemu;

    private TestVm(string dir, Process qemu)
    {
        Dir = dir;
        _qemu = qemu;
    }

    /// <summary>The scratch folder (sockets, console log), under /tmp/stencil-test-*.</summary>
    public string Dir { get; }

    public string AgentSocket => Path.Combine(Dir, "agent.sock");

    public string ConsoleLog => Path.Combine(Dir, "console.log");

    public int Pid => _qemu.Id;

    public bool HasExited => _qemu.HasExited;

    public static void CheckPrerequisites()
    {
        Prerequisite.File(Path.Combine(RepoPaths.GuestDir, "vmlinux"), "make guest");
        Prerequisite.File(Path.Combine(RepoPaths.GuestDir, "initrd"), "make guest");
        Prerequisite.File(Path.Combine(RepoPaths.Root, "config", "guest", "cmdline"), "make guest");
        Prerequisite.Executable("qemu-system-x86_64", "scripts/deps.sh");
    }

    public static TestVm Start(TestVmOptions options)
    {
        CheckPrerequisites();
        var dir = Directory.CreateTempSubdirectory("stencil-test-agent-vm-").FullName;
        var cmdline = File.ReadAllText(Path.Combine(RepoPaths.Root, "config", "guest", "cmdline")).Trim();
        var args = new List<string>
        {
            "-machine", $"q35,accel={(KvmUsable() ? "kvm" : "tcg")}",
            "-m", options.MemoryMiB.ToString(CultureInfo.InvariantCulture), "-smp", "1",
            "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
            "-chardev", $"file,id=con,path={Path.Combine(dir, "console.log")}", "-serial", "chardev:con",
            "-kernel", Path.Combine(RepoPaths.GuestDir, "vmlinux"),
            "-initrd", Path.Combine(RepoPaths.GuestDir, "initrd"),
            "-append", (cmdline + " " + options.ExtraKernelArgs).Trim(),
            "-device", "virtio-serial-pci,id=vs0",
            "-chardev", $"socket,id=agent,path={Path.Combine(dir, "agent.sock")},server=on,wait=off",
            "-device", "virtserialport,bus=vs0.0,chardev=agent,name=stencil.agent",
            "-device", "virtio-rng-pci",
        };
        if (options.SharedDir is not null)
        {
            args.AddRange(["-fsdev", $"local,id=fs0,path={options.SharedDir},security_model=none",
                "-device", $"virtio-9p-pci,fsdev=fs0,mount_tag={ShareTag}"]);
        }
        if (options.Network)
            args.AddRange(["-netdev", "user,id=n0", "-device", $"virtio-net-pci,netdev=n0,mac={Mac}"]);

        var psi = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args)
            psi.ArgumentList.Add(a);
        var qemu = Process.Start(psi) ?? throw new InvalidOperationException("qemu-system-x86_64 did not start");
        qemu.BeginErrorReadLine();
        qemu.BeginOutputReadLine();
        return new TestVm(dir, qemu);
    }

    /// <summary>Connects to the agent, retrying until it answers Health.Check.</summary>
    public async Task<AgentClient> ConnectAsync(TimeSpan timeout)
    {
        try
        {
            return await AgentClient.WaitReadyAsync(AgentSocket, timeout);
        }
        catch (StencilException ex)
        {
            throw new InvalidOperationException($"{ex.Message}\nguest console:\n{ConsoleTail()}", ex);
        }
    }

    /// <summary>QEMU's user+system CPU time so far (from /proc/PID/stat, in clock ticks of 10 ms).</summary>
    public TimeSpan CpuTime()
    {
        var stat = File.ReadAllText($"/proc/{Pid}/stat");
        // Fields after the ")" closing the command name: state is field 3; utime and stime are 14 and 15.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromMilliseconds(ticks * 10);
    }

    public string ConsoleTail(int lines = 40)
    {
        try
        {
            var text = File.ReadAllText(ConsoleLog).Replace("\r", "");
            return string.Join('\n', text.Split('\n').TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no console log)";
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_qemu.HasExited)
                _qemu.Kill(entireProcessTree: true);
            await _qemu.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
        }
        _qemu.Dispose();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>
    /// KVM only with hardware virtualization behind /dev/kvm (kvm_intel or kvm_amd): these machines run
    /// under kvm_pvm, whose /dev/kvm opens but cannot run an ordinary guest (QEMU spins after the firmware).
    /// </summary>
    private static bool KvmUsable()
    {
        if (!Directory.Exists("/sys/module/kvm_intel") && !Directory.Exists("/sys/module/kvm_amd"))
            return false;
        try
        {
            using var kvm = File.Open("/dev/kvm", FileMode.Open, FileAccess.ReadWrite);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }
}
