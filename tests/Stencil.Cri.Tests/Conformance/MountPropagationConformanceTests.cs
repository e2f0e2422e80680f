using Stencil.Cri.V1;
using Stencil.TestSupport;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>
/// Mount propagation of a host path volume, as the kubelet asks for it (mountPropagation None,
/// HostToContainer, Bidirectional). containerd wants the host path on a shared mount for
/// HostToContainer and Bidirectional, so each test makes its folder one (bind onto itself, rshared).
/// None and HostToContainer must behave the same with runc and stencil; Bidirectional is the
/// subclasses' own (runc propagates a container's mount to the host; a VM cannot).
/// </summary>
public abstract class MountPropagationConformanceTests(CriContainerdFixture fixture, string handler, ITestOutputHelper output)
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(20);

    protected CriContainerdFixture Fixture => fixture;

    protected string Handler => handler;

    protected ITestOutputHelper Output => output;

    protected CriClient Client => fixture.Client;

    [Fact]
    public Task HostToContainer_shows_later_host_mounts_and_None_does_not() => fixture.WithLogOnFailureAsync(output, async () =>
    {
        await WithSharedFolderAsync(async dir =>
        {
            var name = $"prop-h2c-{handler}";
            await using var pod = await CriPod.RunAsync(Client, CriConfig.Sandbox(name, fixture.LogDirectory(name)), handler);
            var follower = Sleeper("follower", dir, MountPropagation.PropagationHostToContainer);
            var privateOne = Sleeper("private", dir, MountPropagation.PropagationPrivate);
            var followerId = await pod.RunContainerAsync(follower);
            var privateId = await pod.RunContainerAsync(privateOne);

            // After both started: the host mounts a tmpfs below the volume and writes into it.
            var later = Directory.CreateDirectory(Path.Combine(dir, "later")).FullName;
            await HostAsync("mount", "-t", "tmpfs", "-o", "size=1m", "stencil-test-later", later);
            await File.WriteAllTextAsync(Path.Combine(later, "f"), "late\n");

            var seen = await Client.ExecSyncAsync(followerId, ["sh", "-c", "cat /vol/later/f"], s_timeout);
            output.WriteLine($"{handler} HostToContainer: exit {seen.ExitCode} {seen.StdoutText.Trim()} {seen.StderrText.Trim()}");
            Assert.Equal((0, "late"), (seen.ExitCode, seen.StdoutText.Trim()));

            var unseen = await Client.ExecSyncAsync(privateId, ["sh", "-c", "ls -A /vol/later | wc -l; cat /vol/later/f"], s_timeout);
            output.WriteLine($"{handler} None: exit {unseen.ExitCode} {unseen.StdoutText.Trim()} {unseen.StderrText.Trim()}");
            Assert.NotEqual(0, unseen.ExitCode);
            Assert.Equal("0", unseen.StdoutText.Trim());
        });
    });

    [Fact]
    public Task Bidirectional_propagation() => fixture.WithLogOnFailureAsync(output, () => WithSharedFolderAsync(async dir =>
    {
        var name = $"prop-bidi-{handler}";
        var sandbox = CriConfig.Sandbox(name, fixture.LogDirectory(name));
        sandbox.Linux.SecurityContext.Privileged = true;
        await using var pod = await CriPod.RunAsync(Client, sandbox, handler);
        var config = CriConfig.Container("bidi", CriContainerdFixture.BusyboxImage, "sh", "-c",
            "mkdir -p /vol/inner && mount -t tmpfs stencil-test-inner /vol/inner && echo from-container > /vol/inner/f; exec sleep 3600");
        config.Linux.SecurityContext.Privileged = true;
        config.Mounts.Add(new Mount { HostPath = dir, ContainerPath = "/vol", Propagation = MountPropagation.PropagationBidirectional });
        await AssertBidirectionalAsync(pod, config, dir);
    }));

    /// <summary>runc: the container's mount shows on the host; stencil: refused with the reason.</summary>
    protected abstract Task AssertBidirectionalAsync(CriPod pod, ContainerConfig config, string hostDir);

    protected static async Task<string?> WaitForFileAsync(string path)
    {
        var deadline = DateTime.UtcNow + s_timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (File.Exists(path))
                return await File.ReadAllTextAsync(path);
            await Task.Delay(100);
        }
        return null;
    }

    private static ContainerConfig Sleeper(string name, string hostDir, MountPropagation propagation)
    {
        var config = CriConfig.Container(name, CriContainerdFixture.BusyboxImage, "sleep", "3600");
        config.Mounts.Add(new Mount { HostPath = hostDir, ContainerPath = "/vol", Propagation = propagation });
        return config;
    }

    /// <summary>A temp folder made a shared mount point (what containerd checks for), unmounted with
    /// everything below it afterwards.</summary>
    private static async Task WithSharedFolderAsync(Func<string, Task> body)
    {
        var dir = Directory.CreateTempSubdirectory("stencil-test-prop-").FullName;
        try
        {
            await HostAsync("mount", "--bind", dir, dir);
            await HostAsync("mount", "--make-rshared", dir);
            await body(dir);
        }
        finally
        {
            await ChildProcess.RunAsync("umount", ["-R", "-l", dir], s_timeout);
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task HostAsync(string file, params string[] args) =>
        (await ChildProcess.RunAsync(file, args, s_timeout)).EnsureSuccess($"{file} {string.Join(' ', args)}");
}
