using System.Globalization;
using Stencil.Agent.Client;
using Stencil.Hypervisor;
using Stencil.TestSupport;

namespace Stencil.Agent.Tests.Vm;

/// <summary>
/// A guest VM for these tests, run by Stencil.Hypervisor: q35, SeaBIOS, one vCPU, the guest image
/// from `make guest`, the agent's virtio-serial port on a unix socket, virtio-rng, optionally a 9p
/// share and hotplug room. KVM when usable, TCG otherwise. Disposing kills QEMU and deletes the
/// scratch folder (/tmp/stencil-test-agent-vm-*).
/// </summary>
public sealed class TestVm : IAsyncDisposable
{
    public const string ShareTag = "stencil";

    // KVM only when it is hardware KVM: these machines have a kvm_pvm /dev/kvm that opens but cannot
    // run a stock guest kernel (the probe sees through it).
    private static readonly Lazy<Task<HostCapabilities>> s_host = new(() => new HostProbe().ProbeAsync());

    private TestVm(string dir, QemuVm qemu)
    {
        Dir = dir;
        Qemu = qemu;
    }

    public string Dir { get; }

    /// <summary>The running VM, for hotplug.</summary>
    public QemuVm Qemu { get; }

    public string AgentSocket => Qemu.Instance.Paths.AgentSocket;

    public string ConsoleLog => Path.Combine(Dir, "console.log");

    public static void CheckPrerequisites()
    {
        GuestImage.RequireBootable();
        Prerequisite.File(GuestImage.KernelArgsFile, "make guest");
    }

    public static async Task<TestVm> StartAsync(TestVmOptions options)
    {
        CheckPrerequisites();
        var dir = Directory.CreateTempSubdirectory("stencil-test-agent-vm-").FullName;
        var description = new VmDescription
        {
            Accelerator = (await s_host.Value).PreferredAccelerator,
            Cpus = options.Hotplug ? new CpuTopology(1, 2) : CpuTopology.Fixed(1),
            Memory = options.Hotplug ? new MemoryLayout(options.MemoryMiB, options.MemoryMiB + 256, 1) : MemoryLayout.Fixed(options.MemoryMiB),
            Kernel = new KernelBoot(GuestImage.Kernel, GuestImage.Initrd, (GuestImage.KernelArgs() + " " + options.ExtraKernelArgs).Trim()),
            HotplugRootPorts = options.Hotplug ? 2 : 0,
            SharedFolder = options.SharedDir is null ? null : new SharedFolderDevice(ShareTag),
            Rng = true,
            SerialConsole = true,
        };
        var instance = VmInstance.ForColdBoot(VmInstancePaths.InDirectory(dir)) with { SharedDirectory = options.SharedDir, Name = "agent-test" };
        try
        {
            return new TestVm(dir, await QemuVm.LaunchAsync(description, instance));
        }
        catch
        {
            Directory.Delete(dir, recursive: true);
            throw;
        }
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
        var stat = File.ReadAllText($"/proc/{Qemu.ProcessId}/stat");
        // After the ")" that closes the command name come field 3 (state) onwards; utime and stime are 14 and 15.
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
        await Qemu.DisposeAsync();
        try
        {
            Directory.Delete(Dir, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
