using System.Net;
using Stencil.Cri.V1;
using Xunit.Abstractions;
using static Stencil.Cri.Tests.Conformance.ConformanceRun;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>
/// The namespace part of CRI conformance: which namespaces the containers of a pod share. With
/// shareProcessNamespace (pid POD) a container sees the others' processes and the sandbox's first
/// process is PID 1; with the default (pid CONTAINER) it sees only its own; IPC and UTS are the pod's
/// in every container. Two subclasses run it with runc and with stencil.
/// (Hostname, /etc/hostname and the IPC-namespaced sysctl are in <see cref="SecurityContextConformanceTests"/>;
/// /dev/shm shared by two containers in <see cref="VolumeConformanceTests"/>.)
/// </summary>
public abstract class NamespaceConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    /// <summary>The pod's first process as `ps -o args` shows it: the pause image runs `sh -c "exec sleep 2147483647"`
    /// (see CriContainerdFixture).</summary>
    protected virtual string SandboxProcess => "sleep 2147483647";

    private const string NamespaceProbe =
        "echo pid_ns=$(readlink /proc/self/ns/pid); echo ipc_ns=$(readlink /proc/self/ns/ipc); echo uts_ns=$(readlink /proc/self/ns/uts);"
        + "echo hostname=$(hostname)";

    private CriClient Client => fixture.Client;

    private static PodSandboxConfig WithPid(PodSandboxConfig config, NamespaceMode pid)
    {
        config.Linux.SecurityContext.NamespaceOptions.Pid = pid;
        return config;
    }

    [Fact]
    public Task With_a_shared_process_namespace_a_container_sees_the_pods_processes() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"ns-pidpod-{handler}";
        await using var pod = await CriPod.RunAsync(Client, WithPid(CriConfig.Sandbox(name, fixture.LogDirectory(name)), NamespaceMode.Pod), handler);
        var sleeper = Shell("sleeper", $"{NamespaceProbe}; echo READY; exec sleep 31337");
        sleeper.Linux.SecurityContext.NamespaceOptions.Pid = NamespaceMode.Pod;
        var looker = Shell("looker", $"{NamespaceProbe}; ps -o pid,args | sed 's/^ *//' | sed 's/^/ps=/'");
        looker.Linux.SecurityContext.NamespaceOptions.Pid = NamespaceMode.Pod;

        await pod.RunContainerAsync(sleeper);
        await WaitForLogLineAsync(pod, sleeper, "READY");
        var (status, log) = await RunToExitAsync(Client, pod, looker);
        output.WriteLine($"{handler}: looker exit {status.ExitCode}\n{log}");
        Assert.Equal(0, status.ExitCode);
        var ps = PsLines(log);
        Assert.Contains(ps, l => l.EndsWith(" sleep 31337", StringComparison.Ordinal));
        // PID 1 is the sandbox's process, not either container's.
        Assert.Contains($"1 {SandboxProcess}", ps);
        var sleeperSeen = Parse(LogText(pod, sleeper));
        var lookerSeen = Parse(log);
        Assert.Equal(sleeperSeen["pid_ns"], lookerSeen["pid_ns"]);
        Assert.Equal(sleeperSeen["ipc_ns"], lookerSeen["ipc_ns"]);
        await pod.RemoveAsync();
    });

    [Fact]
    public Task With_a_process_namespace_per_container_a_container_sees_only_its_own() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        var name = $"ns-pidctr-{handler}";
        var config = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        await using var pod = await CriPod.RunAsync(Client, config, handler);
        // The pod's address is its status's (for stencil too: the shim reports the CNI result's address).
        var ip = (await pod.StatusAsync()).Network.Ip;
        Assert.True(IPAddress.TryParse(ip, out _), $"{handler}: PodSandboxStatus network ip \"{ip}\"");
        Assert.StartsWith(fixture.PodSubnet[..fixture.PodSubnet.LastIndexOf('.')] + ".", ip);

        var sleeper = Shell("sleeper", $"{NamespaceProbe}; echo READY; exec sleep 31337");
        var looker = Shell("looker", $"{NamespaceProbe}; ps -o pid,args | sed 's/^ *//' | sed 's/^/ps=/'");
        var sleeperId = await pod.RunContainerAsync(sleeper);
        await WaitForLogLineAsync(pod, sleeper, "READY");
        var (status, log) = await RunToExitAsync(Client, pod, looker);
        output.WriteLine($"{handler}: looker exit {status.ExitCode}\n{log}");
        Assert.Equal(0, status.ExitCode);
        var ps = PsLines(log);
        Assert.DoesNotContain(ps, l => l.Contains("sleep", StringComparison.Ordinal));
        // Its own shell is PID 1; besides it only the probe's pipeline (forked shells, ps, sed; a process
        // caught between fork and exec shows as "[exe]", or as "{COMM} ARGS" when exec has put the new
        // arguments in place but not yet the new name: "{sh} sed s/^ *//" was seen with runc).
        Assert.StartsWith("1 sh -c ", ps.Single(l => l.StartsWith("1 ", StringComparison.Ordinal)));
        Assert.All(ps.Skip(1), l => Assert.Matches(@"^\d+ (sh -c |\{(ps|sh|sed|exe)\} |ps |sed |\[exe\]$)", l));

        // IPC and UTS stay the pod's: the same namespaces and hostname in both containers (and in an exec).
        var sleeperSeen = Parse(LogText(pod, sleeper));
        var lookerSeen = Parse(log);
        var exec = await Client.ExecSyncAsync(sleeperId, ["sh", "-c", NamespaceProbe], ExecTimeout);
        Assert.True(exec.ExitCode == 0, exec.ToString());
        var execSeen = Parse(exec.StdoutText);
        output.WriteLine($"{handler}: sleeper {string.Join("; ", sleeperSeen)}\nlooker {string.Join("; ", lookerSeen)}\nexec {string.Join("; ", execSeen)}");
        Assert.NotEqual(sleeperSeen["pid_ns"], lookerSeen["pid_ns"]);
        Assert.Equal(sleeperSeen["pid_ns"], execSeen["pid_ns"]);
        Assert.Equal(sleeperSeen["ipc_ns"], lookerSeen["ipc_ns"]);
        Assert.Equal(sleeperSeen["ipc_ns"], execSeen["ipc_ns"]);
        Assert.Equal(name, sleeperSeen["hostname"]);
        Assert.Equal(name, lookerSeen["hostname"]);
        AssertUtsNamespaces(sleeperSeen["uts_ns"], lookerSeen["uts_ns"], execSeen["uts_ns"]);
        await pod.RemoveAsync();
    });

    /// <summary>The UTS namespaces of two containers of a pod and of an exec in the first.</summary>
    protected virtual void AssertUtsNamespaces(string first, string second, string exec)
    {
        Assert.Equal(first, second);
        Assert.Equal(first, exec);
    }

    private static List<string> PsLines(string log) =>
        log.Split('\n').Where(l => l.StartsWith("ps=", StringComparison.Ordinal)).Select(l => l["ps=".Length..]).ToList();
}
