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

            // The version service the shim asks at `start` names the release `containerd --version` names.
            var (answered, error) = await ContainerdVersionClient.QueryAsync(containerd.Address, TimeSpan.FromSeconds(10));
            Assert.True(answered is not null, error);
            Assert.Equal(containerd.Version?.ToString(), answered.ToString());

            var version = await containerd.CtrAsync("default", "version");
            Assert.Contains("Version:", version.EnsureSuccess("ctr version"));
            var namespaces = await containerd.CtrAsync("default", "namespaces", "ls");
            Assert.Equal(0, namespaces.ExitCode);
            // The CRI plugin loaded with this config (it fails quietly on a bad one); 2.x splits it in three.
            var plugins = (await containerd.CtrAsync("default", "plugins", "ls")).EnsureSuccess("ctr plugins ls");
            Assert.Matches(@"io\.containerd\.grpc\.v1\s+cri\s+.*\bok\b", plugins);
            if (containerd.Version is { Major: >= 2 })
                Assert.Matches(@"io\.containerd\.cri\.v1\s+runtime\s+.*\bok\b", plugins);
            // The runtime table landed where this release reads it (version 3 names it differently).
            var dump = (await ChildProcess.RunAsync(Prerequisite.Executable("containerd", "make deps"), ["--config", containerd.ConfigPath, "config", "dump"], TimeSpan.FromSeconds(30)))
                .EnsureSuccess("containerd config dump").Replace('\'', '"');
            Assert.Contains(RuntimeTable(containerd.Version, "extra") + "\n", dump);
        }
        finally
        {
            await containerd.DisposeAsync();
        }
        Assert.False(Directory.Exists(directory));
        Assert.False(File.Exists($"/proc/{pid}/status") && !File.ReadAllText($"/proc/{pid}/status").Contains("State:\tZ"),
            $"containerd (pid {pid}) is still running");
    }

    [Fact]
    public async Task Asking_the_version_of_a_containerd_that_is_not_there_answers_null_with_the_reason()
    {
        var (version, error) = await ContainerdVersionClient.QueryAsync("unix:///tmp/stencil-no-such-containerd.sock", TimeSpan.FromSeconds(2));
        Assert.Null(version);
        Assert.Equal("no socket at /tmp/stencil-no-such-containerd.sock", error);

        // A socket nobody serves gRPC on: an answer within the deadline, never a hang or a throw.
        var path = Path.Combine(Path.GetTempPath(), $"stencil-silent-{Environment.ProcessId}.sock");
        using var listener = new System.Net.Sockets.Socket(System.Net.Sockets.AddressFamily.Unix, System.Net.Sockets.SocketType.Stream, System.Net.Sockets.ProtocolType.Unspecified);
        listener.Bind(new System.Net.Sockets.UnixDomainSocketEndPoint(path));
        listener.Listen();
        try
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            (version, error) = await ContainerdVersionClient.QueryAsync(path, TimeSpan.FromMilliseconds(500));
            Assert.Null(version);
            Assert.Contains("did not answer its version service", error);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public async Task The_shipped_runtime_snippet_for_this_containerd_is_read_by_it()
    {
        var containerd = Prerequisite.Executable("containerd", "make deps");
        var version = ContainerdVersion.FromVersionCommand((await ChildProcess.RunAsync(containerd, ["--version"], TimeSpan.FromSeconds(30))).EnsureSuccess("containerd --version"));
        Assert.NotNull(version);
        var snippet = Path.Combine(RepoPaths.Root, "config", "containerd", version.Major >= 2 ? "stencil-runtime-v3.toml" : "stencil-runtime.toml");
        var dump = (await ChildProcess.RunAsync(containerd, ["--config", snippet, "config", "dump"], TimeSpan.FromSeconds(30)))
            .EnsureSuccess($"containerd {version} config dump of {snippet}").Replace('\'', '"');
        var table = RuntimeTable(version, "stencil");
        Assert.Contains(table + "\n", dump);
        var block = dump[dump.IndexOf(table, StringComparison.Ordinal)..];
        Assert.Contains("runtime_type = \"io.containerd.stencil.v2\"", block);
        Assert.Contains("pod_annotations = [\"io.stencil.*\"]", block);
        Assert.Contains("privileged_without_host_devices = true", block);
        Assert.Contains("ConfigPath = \"/etc/stencil/configuration.toml\"", block);
        // The dense preset: the same shim with its own configuration file.
        var dense = RuntimeTable(version, "stencil-dense");
        Assert.Contains(dense + "\n", dump);
        var denseBlock = dump[dump.IndexOf(dense, StringComparison.Ordinal)..];
        Assert.Contains("runtime_type = \"io.containerd.stencil.v2\"", denseBlock);
        Assert.Contains("ConfigPath = \"/etc/stencil/configuration-dense.toml\"", denseBlock);
    }

    private static string RuntimeTable(ContainerdVersion? version, string name) => version is { Major: >= 2 }
        ? $"[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.{name}]"
        : $"[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.{name}]";
}
