using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>A pod's QEMU is confined: QEMU's seccomp filter (-sandbox, [hypervisor] seccompsandbox), its
/// sockets and the guest's console readable by root only, in a folder only root enters, only the capabilities
/// its 9p server needs ([hypervisor] qemu_capabilities), and the whole of
/// QEMU in the pod's cgroup (the spec's cgroupsPath: ctr gives /NAMESPACE/ID) with the VM's memory plus
/// QEMU's allowance as its limit, the cgroup removed with the pod.</summary>
[Collection(StencilCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class QemuConfinementTests(StencilContainerd s)
{
    [Fact]
    public async Task The_pods_QEMU_runs_under_its_seccomp_filter_with_its_sockets_and_console_private()
    {
        var run = await s.Ctr("run", "-d", "--runtime", StencilContainerd.Runtime, StencilContainerd.Image, "e2e-confined", "sleep", "3600");
        Assert.True(run.ExitCode == 0, $"ctr run: {run.Stderr}\n{s.Containerd.ReadLog()}");
        try
        {
            var all = Leftovers.QemuMentioning(s.StateDir);
            var qemu = all.Count == 1 ? all[0] : Assert.Single(all, p => p.CommandLine.Contains("e2e-confined", StringComparison.Ordinal));
            var sandbox = qemu.Args.SkipWhile(a => a != "-sandbox").Skip(1).FirstOrDefault();
            Assert.Equal("on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny", sandbox);
            // 2: SECCOMP_MODE_FILTER.
            var status = File.ReadAllLines($"/proc/{qemu.Pid}/status");
            Assert.Contains(status, l => l.Replace(" ", "") == "Seccomp:\t2");
            // Only what 9p needs: chown 0, dac_override 1, dac_read_search 2, fowner 3, fsetid 4, mknod 27, setfcap 31.
            const ulong kept = 0x1f | (1UL << 27) | (1UL << 31);
            foreach (var set in new[] { "CapBnd:", "CapEff:", "CapPrm:" })
                Assert.Equal(kept, Convert.ToUInt64(status.Single(l => l.StartsWith(set, StringComparison.Ordinal))[set.Length..].Trim(), 16));

            var qmp = qemu.Args.First(a => a.StartsWith("socket,id=qmp0,path=", StringComparison.Ordinal))["socket,id=qmp0,path=".Length..].Split(',')[0];
            var folder = Path.GetDirectoryName(qmp)!;
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
            foreach (var name in new[] { "qmp.sock", "agent.sock", "console.log" })
            {
                var path = Path.Combine(folder, name);
                Assert.True(Path.Exists(path), $"{path} is missing");
                Assert.True(File.GetUnixFileMode(path) == (UnixFileMode.UserRead | UnixFileMode.UserWrite), $"{path}: {File.GetUnixFileMode(path)}");
            }
            // QEMU in the pod's cgroup in each v1 hierarchy it joins (or the v2 one), every thread of it.
            var cgroupLines = File.ReadAllLines($"/proc/{qemu.Pid}/cgroup");
            var memoryLine = cgroupLines.FirstOrDefault(l => l.Split(':')[1].Split(',').Contains("memory"))
                ?? cgroupLines.Single(l => l.StartsWith("0::", StringComparison.Ordinal));
            Assert.EndsWith(":/default/e2e-confined", memoryLine);
            var leaf = memoryLine.StartsWith("0::", StringComparison.Ordinal) ? "/sys/fs/cgroup/default/e2e-confined" : "/sys/fs/cgroup/memory/default/e2e-confined";
            var limitFile = Path.Combine(leaf, File.Exists(Path.Combine(leaf, "memory.max")) ? "memory.max" : "memory.limit_in_bytes");
            // default_memory 256 MiB + sandbox_cgroup_memory_overhead_mib 1024 (both defaults).
            Assert.Equal((256L + 1024) << 20, long.Parse(File.ReadAllText(limitFile).Trim()));
            foreach (var task in Directory.GetDirectories($"/proc/{qemu.Pid}/task"))
                Assert.Contains(File.ReadAllLines(Path.Combine(task, "cgroup")), l => l == memoryLine);

            // Guest memory is not offered to KSM ([hypervisor] enable_mem_merge = false): the guest RAM mapping
            // (the template's memory file, or the cold-booted VM's) lacks the "mg" flag.
            var memPath = qemu.Args.First(a => a.StartsWith("memory-backend-file,", StringComparison.Ordinal)).Split(',').First(o => o.StartsWith("mem-path=", StringComparison.Ordinal))["mem-path=".Length..];
            var ramFlags = GuestRamVmFlags(qemu.Pid, memPath);
            Assert.DoesNotContain("mg", ramFlags);

            // The pod still works under the filter.
            var exec = await s.Ctr("task", "exec", "--exec-id", "x", "e2e-confined", "echo", "confined-ok");
            Assert.Equal("confined-ok", exec.Stdout.Trim());
        }
        finally
        {
            await s.Ctr("task", "kill", "-s", "KILL", "e2e-confined");
            await Eventually.UntilAsync(async () => (await s.Ctr("task", "rm", "e2e-confined")).ExitCode == 0, "the task is deleted");
            await s.Ctr("containers", "rm", "e2e-confined");
        }
        await Eventually.NothingLeftAsync(s);
        await Eventually.UntilAsync(() => Task.FromResult(!Directory.Exists("/sys/fs/cgroup/memory/default/e2e-confined")
            && !Directory.Exists("/sys/fs/cgroup/default/e2e-confined")), "the pod's cgroup is removed");
    }

    /// <summary>The VmFlags of the mapping of <paramref name="memPath"/> in QEMU (its smaps), e.g. ["rd", "wr", "mr", ...].</summary>
    private static string[] GuestRamVmFlags(int pid, string memPath)
    {
        var inRam = false;
        foreach (var line in File.ReadLines($"/proc/{pid}/smaps"))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length > 0 && fields[0].Contains('-', StringComparison.Ordinal) && !fields[0].EndsWith(':'))
                inRam = fields.Length >= 6 && fields[5] == memPath;
            else if (inRam && line.StartsWith("VmFlags:", StringComparison.Ordinal))
                return fields[1..];
        }
        throw new InvalidOperationException($"QEMU {pid} has no mapping of {memPath}");
    }
}
