using System.Text;
using System.Text.Json.Nodes;
using Stencil.Agent.Client;
using Stencil.Oci;
using Stencil.TestSupport;
using Xunit.Abstractions;

namespace Stencil.Agent.Tests.Vm;

/// <summary>
/// A pod without a pause container (containerd's sandbox API), in a real guest of its own (one sandbox
/// per VM): the agent's namespace holder gives two CRI containers one hostname, IPC and PID
/// namespace, the pod's resolv.conf and one /dev/shm, and is gone after DestroySandbox.
/// </summary>
public sealed class PodNamespacesTests(ITestOutputHelper output)
{
    private const string PodId = "pod-1";

    /// <param name="prepared">The holder was made ahead of time (by WarmUp, as in a template or a pooled clone) and is only configured.</param>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Two_containers_of_a_pod_share_its_namespaces_files_and_shm_and_the_holder_ends_with_the_sandbox(bool prepared)
    {
        var share = Directory.CreateTempSubdirectory("stencil-test-agent-podns-").FullName;
        try
        {
            BusyboxRootfs.Create(Path.Combine(share, "rootfs"));
            await using var vm = await TestVm.StartAsync(new TestVmOptions(SharedDir: share));
            await using var agent = await vm.ConnectAsync(GuestVmFixture.Timeout);
            // Refused before anything starts, and by the guest kernel inside the holder: no sandbox either time.
            await AssertRefusedAsync(agent, "vm.swappiness", "10", "sysctl \"vm.swappiness\" is not in a separate kernel namespace");
            await AssertRefusedAsync(agent, "kernel.msgmax", "lots",
                "the pod's namespace holder failed: sysctl kernel.msgmax = \"lots\" cannot be set in the pod's IPC namespace: ");

            if (prepared)
                await agent.WarmUpAsync();
            var clock = System.Diagnostics.Stopwatch.StartNew();
            await agent.CreateSandboxAsync(new SandboxConfig(PodId, Hostname: "pod-host", DnsServers: ["10.96.0.10"],
                DnsSearch: ["default.svc.cluster.local"], Shared: new SharedFolderConfig(TestVm.ShareTag),
                PodNamespaces: new PodNamespacesConfig(new Dictionary<string, string> { ["kernel.shmmax"] = "123456789" })));
            output.WriteLine($"CreateSandbox with pod namespaces ({(prepared ? "prepared holder" : "holder started now")}): {clock.ElapsedMilliseconds} ms");

            // a: leaves a file and its IPC namespace's name in /dev/shm, then stays.
            await CreateAsync(agent, "a", "echo hello > /dev/shm/from-a; readlink /proc/self/ns/ipc > /dev/shm/ipc-a; exec sleep 1000");
            await agent.StartContainerAsync("a");
            // b: waits for them, then says what it sees; an orphan it leaves must be reaped by the pod's PID 1.
            await CreateAsync(agent, "b", """
                i=0; while [ ! -s /dev/shm/ipc-a ] && [ $i -lt 100 ]; do sleep 1; i=$((i+1)); done
                echo "hostname $(hostname)"; echo "shm $(cat /dev/shm/from-a)"
                echo "ipc-a $(cat /dev/shm/ipc-a)"; echo "ipc-b $(readlink /proc/self/ns/ipc)"
                echo "shmmax $(cat /proc/sys/kernel/shmmax)"
                (sleep 1 &); sleep 3
                awk '$3 == "Z" { print "zombie", $0 }' /proc/[0-9]*/stat
                echo "pid1 $(cat /proc/1/cmdline | tr '\0' ' ')"; ps | grep -c '[s]leep 1000' | sed 's/^/sleepers /'
                cat /etc/resolv.conf
                """);
            await agent.StartContainerAsync("b");
            var stdout = await ReadAllAsync(agent, "b");
            output.WriteLine(stdout);
            Assert.Equal(0, (await agent.WaitProcessAsync("b", null)).ExitCode);

            var lines = stdout.Split('\n');
            Assert.Contains("hostname pod-host", lines);
            Assert.Contains("shm hello", lines);
            var ipcA = Assert.Single(lines, l => l.StartsWith("ipc-a ", StringComparison.Ordinal))[6..];
            Assert.StartsWith("ipc:[", ipcA);
            Assert.Contains($"ipc-b {ipcA}", lines);
            Assert.Contains("shmmax 123456789", lines);
            Assert.DoesNotContain(lines, l => l.StartsWith("zombie", StringComparison.Ordinal));
            Assert.Contains("pid1 stencil-agent --ns-init ", lines);
            Assert.Contains("sleepers 1", lines);
            Assert.Contains("search default.svc.cluster.local\nnameserver 10.96.0.10\n", stdout);

            await agent.DestroySandboxAsync();

            // The guest's own processes, seen from a container in the guest's PID namespace.
            await agent.CreateSandboxAsync(new SandboxConfig("after", Shared: new SharedFolderConfig(TestVm.ShareTag)));
            var spec = TestSpecs.Spec(["ps"]);
            spec["linux"]!["namespaces"] = new JsonArray(new JsonObject { ["type"] = "mount" });
            spec.Remove("hostname"); // no UTS namespace of its own
            await agent.CreateContainerAsync(new ContainerConfig("ps", Encoding.UTF8.GetBytes(spec.ToJsonString()), [StorageMount.Shared("rootfs", "rootfs")]));
            await agent.StartContainerAsync("ps");
            var processes = await ReadAllAsync(agent, "ps");
            output.WriteLine(processes);
            Assert.Contains("stencil-agent", processes);
            Assert.DoesNotContain("--ns-init", processes);
            Assert.DoesNotContain("sleep 1000", processes);
            Assert.DoesNotContain("sleep 60", processes); // the warm-up container's init
            await agent.DestroySandboxAsync();
        }
        finally
        {
            Directory.Delete(share, recursive: true);
        }
    }

    private static async Task AssertRefusedAsync(AgentClient agent, string key, string value, string message)
    {
        var ex = await Assert.ThrowsAsync<StencilException>(() => agent.CreateSandboxAsync(new SandboxConfig(PodId,
            PodNamespaces: new PodNamespacesConfig(new Dictionary<string, string> { [key] = value }))));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith(message, ex.Message);
    }

    /// <summary>A CRI container of the pod that joins its IPC, UTS and PID namespaces, running <paramref name="script"/>.</summary>
    private static Task<int> CreateAsync(AgentClient agent, string id, string script)
    {
        var spec = TestSpecs.Spec(["sh", "-c", script]);
        spec.Remove("hostname"); // the pod's, from the UTS namespace it joins
        spec["annotations"] = new JsonObject
        {
            [CriAnnotations.ContainerType] = CriAnnotations.ContainerTypeContainer,
            [CriAnnotations.SandboxId] = PodId,
            [StencilAnnotations.JoinSandboxNamespaces] = "ipc,uts,pid",
        };
        return agent.CreateContainerAsync(new ContainerConfig(id, Encoding.UTF8.GetBytes(spec.ToJsonString()), [StorageMount.Shared("rootfs", "rootfs")]));
    }

    private static async Task<string> ReadAllAsync(AgentClient agent, string id)
    {
        using var buffer = new MemoryStream();
        using var cts = new CancellationTokenSource(GuestVmFixture.Timeout);
        await agent.CopyOutputAsync(id, null, StdioStream.Stdout, buffer, cts.Token);
        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}
