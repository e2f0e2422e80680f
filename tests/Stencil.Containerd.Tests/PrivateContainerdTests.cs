using Stencil.TestSupport;

namespace Stencil.Containerd.Tests;

/// <summary>The harness itself: it starts a containerd that answers, and leaves nothing behind.</summary>
[Collection(nameof(ContainerdCollection))]
public class PrivateContainerdTests
{
    [Fact]
    public async Task It_starts_a_containerd_that_answers_and_removes_everything_on_dispose()
    {
        var containerd = await PrivateContainerd.StartAsync("""
            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.extra]
              runtime_type = "io.containerd.extra.v2"
            """);
        string directory;
        int pid;
        try
        {
            directory = containerd.Directory;
            pid = containerd.Pid;
            Assert.StartsWith("/tmp/stencil-ctd-", directory);
            Assert.True(File.Exists(containerd.TtrpcAddress));
            Assert.Contains("runtimes.extra", File.ReadAllText(containerd.ConfigPath));

            var version = await containerd.CtrAsync("default", "version");
            Assert.Contains("Version:", version.EnsureSuccess("ctr version"));
            var namespaces = await containerd.CtrAsync("default", "namespaces", "ls");
            Assert.Equal(0, namespaces.ExitCode);
            // The CRI plugin loaded with this config (it fails quietly on a bad one).
            var plugins = (await containerd.CtrAsync("default", "plugins", "ls")).EnsureSuccess("ctr plugins ls");
            Assert.Matches(@"io\.containerd\.grpc\.v1\s+cri\s+.*\bok\b", plugins);
        }
        finally
        {
            await containerd.DisposeAsync();
        }
        Assert.False(Directory.Exists(directory));
        Assert.False(File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ"),
            $"containerd (pid {pid}) is still running");
    }
}
