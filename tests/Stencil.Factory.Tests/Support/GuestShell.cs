using System.Text;
using System.Text.Json.Nodes;
using Stencil.Agent.Client;
using Stencil.TestSupport;

namespace Stencil.Factory.Tests.Support;

/// <summary>
/// Runs shell commands in a VM the way a pod does: a sandbox over the VM's 9p share, and a busybox
/// container whose rootfs is "rootfs" in that share. The guest itself has no exec without a container.
/// </summary>
public sealed class GuestShell
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(90);
    private readonly AgentClient _agent;
    private int _next;

    private GuestShell(AgentClient agent) => _agent = agent;

    /// <summary>Puts a busybox rootfs in <paramref name="sharedDirectory"/> and creates the sandbox.</summary>
    public static async Task<GuestShell> OpenAsync(FactoryVm vm, string sharedDirectory)
    {
        BusyboxRootfs.Create(Path.Combine(sharedDirectory, "rootfs"));
        await vm.Agent.CreateSandboxAsync(new SandboxConfig("sandbox", Shared: new SharedFolderConfig(FactoryTestVm.ShareTag)));
        return new GuestShell(vm.Agent);
    }

    /// <summary>sh -c <paramref name="script"/> in a fresh container: (stdout, exit code).</summary>
    public async Task<(string Stdout, int ExitCode)> RunAsync(string script)
    {
        var id = "c" + Interlocked.Increment(ref _next);
        await _agent.CreateContainerAsync(new ContainerConfig(id, Encoding.UTF8.GetBytes(Spec(["/bin/sh", "-c", script]).ToJsonString()),
            [StorageMount.Shared("rootfs", "rootfs")]));
        try
        {
            using var cts = new CancellationTokenSource(s_timeout);
            await _agent.StartContainerAsync(id, cts.Token);
            using var output = new MemoryStream();
            await _agent.CopyOutputAsync(id, null, StdioStream.Stdout, output, cts.Token);
            var exit = await _agent.WaitProcessAsync(id, null, cts.Token);
            return (Encoding.UTF8.GetString(output.ToArray()), exit.ExitCode);
        }
        finally
        {
            await _agent.RemoveContainerAsync(id, force: true);
        }
    }

    private static JsonObject Spec(string[] args) => new()
    {
        ["ociVersion"] = "1.0.2",
        ["process"] = new JsonObject
        {
            ["user"] = new JsonObject { ["uid"] = 0, ["gid"] = 0 },
            ["args"] = new JsonArray([.. args.Select(a => (JsonNode)a)]),
            ["env"] = new JsonArray("PATH=/usr/sbin:/usr/bin:/sbin:/bin"),
            ["cwd"] = "/",
        },
        ["root"] = new JsonObject { ["path"] = "rootfs", ["readonly"] = false },
        ["mounts"] = new JsonArray(
            Mount("/proc", "proc", "proc"),
            Mount("/dev", "tmpfs", "tmpfs", "nosuid", "mode=755"),
            Mount("/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro")),
        ["linux"] = new JsonObject
        {
            ["namespaces"] = new JsonArray(Ns("pid"), Ns("ipc"), Ns("uts"), Ns("mount")),
        },
    };

    private static JsonObject Ns(string type) => new() { ["type"] = type };

    private static JsonObject Mount(string destination, string type, string source, params string[] options) => new()
    {
        ["destination"] = destination,
        ["type"] = type,
        ["source"] = source,
        ["options"] = new JsonArray([.. options.Select(o => (JsonNode)o)]),
    };
}
