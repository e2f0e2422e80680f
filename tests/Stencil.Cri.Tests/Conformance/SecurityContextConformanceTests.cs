using Stencil.Cri.V1;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>
/// The security-context part of CRI conformance: the same pod and container configs run under a
/// handler, and what the container sees (its first process's output and ExecSync) must equal one
/// fixed expectation. Two subclasses run it with runc and with stencil, so both must give the same
/// answer. Probes print KEY=VALUE lines; each pod holds several containers to keep the run short.
/// </summary>
public abstract class SecurityContextConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    private static readonly TimeSpan s_execTimeout = TimeSpan.FromSeconds(20);

    /// <summary>The kubelet's default masked paths (what it sends for a non-privileged container).</summary>
    internal static readonly string[] DefaultMaskedPaths =
    [
        "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
        "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
    ];

    /// <summary>The kubelet's default read-only paths.</summary>
    internal static readonly string[] DefaultReadonlyPaths =
        ["/proc/asound", "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger"];

    // Default capabilities of containerd's CRI plugin: CHOWN DAC_OVERRIDE FOWNER FSETID KILL SETGID
    // SETUID SETPCAP NET_BIND_SERVICE NET_RAW SYS_CHROOT MKNOD AUDIT_WRITE SETFCAP.
    private const string DefaultCaps = "00000000a80425fb";

    private const string IdentityProbe =
        "echo uid=$(id -u); echo gid=$(id -g); echo groups=$(id -G | tr ' ' '\\n' | sort -n | tr '\\n' ,); echo user=$(id -un)";

    private const string PrivilegeProbe =
        "grep -E '^(NoNewPrivs|CapEff|CapBnd):' /proc/self/status | tr -d '\\t' | sed 's/:/=/';"
        + "if touch /probe-write 2>/dev/null; then echo rootfs=rw; else echo rootfs=ro; fi;"
        + "if echo x > /tmp/probe-write 2>/dev/null; then echo tmp=rw; else echo tmp=ro; fi;"
        + "echo kcore=$(head -c 16 /proc/kcore 2>/dev/null | wc -c);"
        + "echo firmware=$(ls /sys/firmware 2>/dev/null | wc -l);"
        + "echo procsys=$(grep ' /proc/sys ' /proc/mounts | cut -d' ' -f4 | cut -d, -f1);"
        + "echo group_bytes=$(cat /etc/group | wc -c);"
        + "if touch /var/www/probe 2>/dev/null; then echo www=rw; else echo www=ro; fi;"
        + "echo tmp_entries=$(ls -A /tmp | wc -l)";

    private const string NetworkProbe =
        "echo hostname=$(hostname); echo etc_hostname=$(cat /etc/hostname);"
        + "echo shm_rmid_forced=$(cat /proc/sys/kernel/shm_rmid_forced);"
        + "echo port_range=$(cat /proc/sys/net/ipv4/ip_local_port_range | tr '\\t' ' ');"
        + "echo resolv=$(grep -v '^#' /etc/resolv.conf | tr '\\n' '|');"
        + "if grep -q '^127.0.0.1[[:space:]].*localhost' /etc/hosts; then echo hosts=localhost; else echo hosts=none; fi";

    protected CriContainerdFixture Fixture => fixture;

    protected string Handler => handler;

    protected ITestOutputHelper Output => output;

    protected CriClient Client => fixture.Client;

    [Fact]
    public Task Users_and_groups_come_from_the_config_and_the_image() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"sc-ids-{handler}";
        await using var pod = await CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name)), handler);

        var byNumber = Container("by-number", IdentityProbe);
        byNumber.Linux.SecurityContext.RunAsUser = new Int64Value { Value = 1234 };
        byNumber.Linux.SecurityContext.RunAsGroup = new Int64Value { Value = 4321 };
        byNumber.Linux.SecurityContext.SupplementalGroups.Add(2000);
        var byName = Container("by-name", IdentityProbe);
        byName.Linux.SecurityContext.RunAsUsername = "user";
        byName.Linux.SecurityContext.SupplementalGroups.Add(3000);
        var nobody = Container("nobody", IdentityProbe);
        nobody.Linux.SecurityContext.RunAsUsername = "nobody";

        await AssertProbeAsync(pod, byNumber, IdentityProbe, new()
        {
            ["uid"] = "1234", ["gid"] = "4321", ["groups"] = "2000,4321,", ["user"] = "1234",
        });
        // "user" is 1000:1000 in the image's /etc/passwd and a member of "extra" (1500) in its /etc/group.
        await AssertProbeAsync(pod, byName, IdentityProbe, new()
        {
            ["uid"] = "1000", ["gid"] = "1000", ["groups"] = "1000,1500,3000,", ["user"] = "user",
        });
        await AssertProbeAsync(pod, nobody, IdentityProbe, new()
        {
            ["uid"] = "65534", ["gid"] = "65534", ["groups"] = "65534,", ["user"] = "nobody",
        });
    });

    [Fact]
    public Task Readonly_rootfs_no_new_privs_masked_paths_and_capabilities_apply() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"sc-privs-{handler}";
        await using var pod = await CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name)), handler);

        var plain = Container("plain", PrivilegeProbe);
        var locked = Container("locked", PrivilegeProbe);
        locked.Linux.SecurityContext.ReadonlyRootfs = true;
        locked.Linux.SecurityContext.NoNewPrivs = true;
        locked.Linux.SecurityContext.Capabilities = new Capability();
        locked.Linux.SecurityContext.Capabilities.AddCapabilities.Add("NET_ADMIN");
        locked.Linux.SecurityContext.Capabilities.DropCapabilities.Add("CHOWN");

        // Paths of the image itself masked and made read-only: a file (/dev/null over it), a folder
        // (an empty read-only tmpfs over it), and a read-only folder.
        var masked = Container("masked", PrivilegeProbe);
        masked.Linux.SecurityContext.MaskedPaths.Add("/etc/group");
        masked.Linux.SecurityContext.MaskedPaths.Add("/tmp");
        masked.Linux.SecurityContext.ReadonlyPaths.Add("/var/www");
        await AssertProbeAsync(pod, masked, PrivilegeProbe, new()
        {
            ["group_bytes"] = "0", ["tmp"] = "ro", ["tmp_entries"] = "0", ["www"] = "ro", ["rootfs"] = "rw",
        });

        await AssertProbeAsync(pod, plain, PrivilegeProbe, new()
        {
            ["group_bytes"] = "58", ["www"] = "rw",
            ["NoNewPrivs"] = "0", ["CapEff"] = DefaultCaps, ["CapBnd"] = DefaultCaps,
            ["rootfs"] = "rw", ["tmp"] = "rw", ["kcore"] = "0", ["firmware"] = "0", ["procsys"] = "ro",
        });
        // NET_ADMIN is bit 12, CHOWN bit 0.
        await AssertProbeAsync(pod, locked, PrivilegeProbe, new()
        {
            ["NoNewPrivs"] = "1", ["CapEff"] = "00000000a80435fa", ["CapBnd"] = "00000000a80435fa",
            ["rootfs"] = "ro", ["tmp"] = "ro", ["kcore"] = "0", ["firmware"] = "0", ["procsys"] = "ro",
        });
    });

    [Fact]
    public Task A_privileged_container_has_every_capability_and_nothing_masked() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"sc-privileged-{handler}";
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        config.Linux.SecurityContext.Privileged = true;
        await using var pod = await CriPod.RunAsync(Client, config, handler);

        var privileged = Container("privileged", PrivilegeProbe);
        privileged.Linux.SecurityContext.Privileged = true;
        var probe = await RunProbeAsync(pod, privileged, PrivilegeProbe);
        // containerd grants every capability it has itself: this test process's set (root, same host).
        var hostCaps = File.ReadAllLines("/proc/self/status").Single(l => l.StartsWith("CapEff:", StringComparison.Ordinal))["CapEff:".Length..].Trim();
        Assert.Equal(hostCaps, probe["CapEff"]);
        Assert.Equal(hostCaps, probe["CapBnd"]);
        Assert.Equal("0", probe["NoNewPrivs"]);
        Assert.Equal("rw", probe["rootfs"]);
        // Nothing read-only: /proc/sys is not a read-only mount.
        Assert.NotEqual("ro", probe["procsys"]);

        // The devices: those of the kernel the container runs on (the host's for runc, the guest's for stencil).
        const string DeviceProbe = "echo devices=$(find /dev -type c -o -type b | sort | tr '\\n' ' ')";
        var devices = Container("privileged-devices", DeviceProbe);
        devices.Linux.SecurityContext.Privileged = true;
        var seen = (await RunProbeAsync(pod, devices, DeviceProbe))["devices"].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        output.WriteLine($"{handler}: {seen.Length} device nodes: {string.Join(' ', seen)}");
        AssertPrivilegedDevices(seen);
    });

    /// <summary>The device nodes a privileged container of a privileged pod sees.</summary>
    protected abstract void AssertPrivilegedDevices(IReadOnlyList<string> devices);

    /// <summary>A sysctl no namespace holds (vm.*) would change the whole kernel: runc refuses it, and so
    /// does crun in the guest (the VM's kernel is the pod's, but the rule is the same as runc's).</summary>
    [Fact]
    public Task A_sysctl_the_kernel_does_not_namespace_is_refused() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"sc-sysctl-{handler}";
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        config.Linux.Sysctls["vm.swappiness"] = "10";
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => Client.RunPodSandboxAsync(config, handler));
        output.WriteLine($"{handler}: {refused.Status.StatusCode}: {refused.Status.Detail}");
        Assert.Contains("vm.swappiness", refused.Status.Detail, StringComparison.Ordinal);
    });

    [Fact]
    public Task Sysctls_hostname_dns_and_hosts_reach_the_container() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"sc-net-{handler}";
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        config.Linux.Sysctls["kernel.shm_rmid_forced"] = "1";
        config.Linux.Sysctls["net.ipv4.ip_local_port_range"] = "40000 50000";
        config.DnsConfig = new DNSConfig();
        config.DnsConfig.Servers.Add("10.96.0.10");
        config.DnsConfig.Searches.Add("default.svc.cluster.local");
        config.DnsConfig.Searches.Add("svc.cluster.local");
        config.DnsConfig.Options.Add("ndots:5");
        await using var pod = await CriPod.RunAsync(Client, config, handler);

        await AssertProbeAsync(pod, Container("net", NetworkProbe), NetworkProbe, new()
        {
            ["hostname"] = name, ["etc_hostname"] = name,
            // containerd sets kernel.shm_rmid_forced in the sandbox's IPC namespace only: a container
            // reads 1 only if it shares the sandbox's IPC namespace, as the kubelet asks (ipc POD).
            ["shm_rmid_forced"] = "1", ["port_range"] = "40000 50000",
            ["resolv"] = "search default.svc.cluster.local svc.cluster.local|nameserver 10.96.0.10|options ndots:5|",
            ["hosts"] = "localhost",
        });
    });

    // Seccomp mode from /proc/self/status (0 none, 2 filter), and whether mkdir(2) is allowed.
    private const string SeccompProbe =
        "echo seccomp=$(grep '^Seccomp:' /proc/self/status | tr -d '\\t' | cut -d: -f2);"
        + "d=/tmp/probe-dir.$$; if mkdir $d 2>/dev/null; then echo mkdir=ok; rmdir $d; else echo mkdir=denied; fi";

    [Fact]
    public Task Seccomp_runtime_default_localhost_and_unconfined_profiles_apply() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"sc-seccomp-{handler}";
        await using var pod = await CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name)), handler);
        // A localhost profile: a file on the host, by absolute path (containerd reads it there).
        var profile = Path.Combine(fixture.LogDirectory(name), "deny-mkdir.json");
        await File.WriteAllTextAsync(profile,
            """{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}""");

        var runtimeDefault = Container("seccomp-default", SeccompProbe);
        runtimeDefault.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.RuntimeDefault };
        var localhost = Container("seccomp-localhost", SeccompProbe);
        localhost.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = profile };
        var unconfined = Container("seccomp-unconfined", SeccompProbe);
        unconfined.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Unconfined };

        await AssertProbeAsync(pod, runtimeDefault, SeccompProbe, new() { ["seccomp"] = "2", ["mkdir"] = "ok" });
        await AssertProbeAsync(pod, localhost, SeccompProbe, new() { ["seccomp"] = "2", ["mkdir"] = "denied" });
        await AssertProbeAsync(pod, unconfined, SeccompProbe, new() { ["seccomp"] = "0", ["mkdir"] = "ok" });

        // A profile type the CRI does not define, and a localhost file that does not exist: containerd
        // refuses both before any runtime sees the container, with the same words for each handler.
        var unknown = Container("seccomp-unknown", SeccompProbe);
        unknown.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = (SecurityProfile.Types.ProfileType)7 };
        var refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => pod.CreateContainerAsync(unknown));
        output.WriteLine($"{handler}: unknown profile type: {refused.Status.Detail}");
        Assert.Contains("seccomp unknown ProfileType", refused.Status.Detail, StringComparison.Ordinal);
        var missing = Container("seccomp-missing", SeccompProbe);
        missing.Linux.SecurityContext.Seccomp = new SecurityProfile { ProfileType = SecurityProfile.Types.ProfileType.Localhost, LocalhostRef = profile + ".missing" };
        refused = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => pod.CreateContainerAsync(missing));
        output.WriteLine($"{handler}: missing localhost profile: {refused.Status.Detail}");
        Assert.Contains("deny-mkdir.json.missing", refused.Status.Detail, StringComparison.Ordinal);
    });

    /// <summary>A busybox container whose first process prints <paramref name="probe"/>'s lines, then END, then sleeps.</summary>
    private static ContainerConfig Container(string name, string probe)
    {
        var config = CriConfig.Container(name, CriContainerdFixture.BusyboxImage, "sh", "-c", $"{probe}; echo END; exec sleep 3600");
        config.Linux.SecurityContext.MaskedPaths.AddRange(DefaultMaskedPaths);
        config.Linux.SecurityContext.ReadonlyPaths.AddRange(DefaultReadonlyPaths);
        return config;
    }

    private async Task AssertProbeAsync(CriPod pod, ContainerConfig config, string probe, Dictionary<string, string> expected)
    {
        var seen = await RunProbeAsync(pod, config, probe);
        foreach (var (key, value) in expected)
        {
            Assert.True(seen.TryGetValue(key, out var actual), $"{handler} {config.Metadata.Name}: the probe printed no {key}");
            Assert.True(value == actual, $"{handler} {config.Metadata.Name}: {key} is \"{actual}\", expected \"{value}\"");
        }
    }

    /// <summary>Runs the container and returns what its first process printed, after checking that an
    /// ExecSync of the same probe prints the same (exec gets the container's user, capabilities and
    /// no_new_privs too).</summary>
    private async Task<Dictionary<string, string>> RunProbeAsync(CriPod pod, ContainerConfig config, string probe)
    {
        var id = await pod.RunContainerAsync(config);
        var logPath = Path.Combine(pod.Config.LogDirectory, config.LogPath);
        var deadline = DateTime.UtcNow + s_execTimeout;
        List<string> lines = [];
        while (true)
        {
            lines = File.Exists(logPath)
                ? File.ReadAllLines(logPath).Select(l => l.Split(' ', 4)).Where(p => p.Length == 4).Select(p => p[3]).ToList()
                : [];
            if (lines.Contains("END"))
                break;
            Assert.True(DateTime.UtcNow < deadline, $"{handler} {config.Metadata.Name}: no END in the log after {s_execTimeout}:\n{string.Join('\n', lines)}");
            await Task.Delay(100);
        }
        var fromLog = Parse(lines);
        output.WriteLine($"{handler} {config.Metadata.Name}: {string.Join("; ", fromLog.Select(kv => $"{kv.Key}={kv.Value}"))}");

        var exec = await Client.ExecSyncAsync(id, ["sh", "-c", probe], s_execTimeout);
        Assert.True(exec.ExitCode == 0, $"{handler} {config.Metadata.Name}: exec of the probe: {exec}");
        var fromExec = Parse(exec.StdoutText.Split('\n'));
        foreach (var (key, value) in fromLog.Where(kv => kv.Key is not ("rootfs" or "tmp")))
            Assert.True(fromExec.GetValueOrDefault(key) == value, $"{handler} {config.Metadata.Name}: exec sees {key}={fromExec.GetValueOrDefault(key)}, the container's process {value}");
        return fromLog;
    }

    private static Dictionary<string, string> Parse(IEnumerable<string> lines)
    {
        var values = new Dictionary<string, string>();
        foreach (var line in lines)
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                values[line[..eq]] = line[(eq + 1)..];
        }
        return values;
    }
}
