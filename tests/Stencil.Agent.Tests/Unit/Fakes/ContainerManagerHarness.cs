using Stencil.Agent.Containers;
using Stencil.Agent.Guest;
using Stencil.Agent.Tests.Vm;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>A <see cref="ContainerManager"/> wired to fakes (one crun, no shared folder), with the steps tests share.</summary>
internal sealed class ContainerManagerHarness
{
    internal const string Bundle = "/run/stencil/containers/c1";
    internal const string Cgroup = "/sys/fs/cgroup/stencil/c1";

    /// <summary>The container's root file system, as the shim sends it: a storage mounted at "rootfs".</summary>
    internal static readonly StorageRequest[] Rootfs = [new StorageRequest("c1/rootfs", null, null, TimeSpan.Zero, "", [], "rootfs")];

    internal ContainerManagerHarness()
        : this(new Sandbox())
    {
    }

    /// <summary>With the sandbox the manager's containers belong to (one with pod namespaces, say).</summary>
    internal ContainerManagerHarness(Sandbox sandbox)
    {
        Crun = new FakeOciRuntime("crun", Syscalls);
        Manager = new ContainerManager(sandbox, [Crun], Syscalls, Reaper, Oom, Log);
    }

    internal FakeContainerSyscalls Syscalls { get; } = new();

    internal FakeReaper Reaper { get; } = new();

    internal FakeOomWatch Oom { get; } = new();

    internal FakeLog Log { get; } = new();

    internal FakeOciRuntime Crun { get; }

    internal ContainerManager Manager { get; }

    internal Task<int> CreateAsync(string id = "c1", bool terminal = false) =>
        Manager.CreateAsync(id, TestSpecs.SpecJson(["sleep", "60"], terminal), Rootfs, [], "", CancellationToken.None);

    /// <summary>c1, created and started; returns its init's pid.</summary>
    internal async Task<int> CreateRunningAsync()
    {
        var pid = await CreateAsync().ConfigureAwait(false);
        await Manager.StartAsync("c1", CancellationToken.None).ConfigureAwait(false);
        return pid;
    }

    /// <summary>The action fails with a StencilException of this kind and exactly this message.</summary>
    internal static async Task AssertFailsAsync(ErrorKind kind, string message, Func<Task> action)
    {
        var ex = await Assert.ThrowsAsync<StencilException>(action).ConfigureAwait(false);
        Assert.Equal((kind, message), (ex.Kind, ex.Message));
    }

    /// <summary>Runs <paramref name="action"/> until the state it needs is there: the init's exit reaches the
    /// container through a continuation on the thread pool.</summary>
    internal static async Task EventuallyAsync(Func<Task> action)
    {
        for (var i = 0; ; i++)
        {
            try
            {
                await action().ConfigureAwait(false);
                return;
            }
            catch (StencilException ex) when (ex.Kind == ErrorKind.FailedPrecondition && i < 500)
            {
                await Task.Delay(10).ConfigureAwait(false);
            }
        }
    }
}
