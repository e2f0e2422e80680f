using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Stencil.Cri;
using Xunit.Abstractions;

namespace Stencil.Cri.Tests.Streaming;

[Collection(StencilCriCollection.Name)]
public sealed class StencilStreamingConformanceTests(StencilCriFixture fixture, ITestOutputHelper output)
    : StreamingConformanceTests(fixture, StencilCriFixture.Handler, output)
{
    /// <summary>
    /// What makes PortForward work for a VM pod stays inside the pod: the nft rule is in the pod's
    /// namespace (the host's own has no table of ours), the relay listens on 127.0.0.1 there, and when
    /// the pod goes no process holds that socket any more (a socket left open would keep the namespace alive).
    /// </summary>
    [Fact]
    public Task PortForward_relay_lives_in_the_pods_namespace_only_and_closes_with_the_pod() => Fixture.WithLogOnFailureAsync(Output, async () =>
    {
        await using var pod = await CriPod.RunAsync(Fixture.Client, CriConfig.Sandbox("pf-relay", Fixture.LogDirectory("pf-relay")), StencilCriFixture.Handler);
        var netns = await pod.NetworkNamespacePathAsync();
        Assert.NotNull(netns);

        var rules = await RunAsync("/usr/bin/nsenter", "--net=" + netns, "--", "/usr/sbin/nft", "list", "ruleset");
        var redirect = Regex.Match(rules, @"redirect to :(\d+)");
        Assert.True(redirect.Success, $"no redirect rule in {netns}: {rules}");
        var port = int.Parse(redirect.Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.Contains($"ip daddr 127.0.0.1 tcp dport != {port} redirect to :{port}", rules);
        Assert.DoesNotContain("stencil", await RunAsync("/usr/sbin/nft", "list", "tables"));

        var inode = ListenerInode(await RunAsync("/usr/bin/nsenter", "--net=" + netns, "--", "/bin/cat", "/proc/net/tcp"), port);
        Assert.True(inode is not null, $"nothing listens on 127.0.0.1:{port} in {netns}");
        var holder = SocketHolder(inode);
        Assert.True(holder is not null, $"no process holds the relay's socket (inode {inode})");
        Output.WriteLine($"relay 127.0.0.1:{port} in {netns}: socket inode {inode}, held by pid {holder}");

        await pod.RemoveAsync();
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (SocketHolder(inode) is { } pid)
        {
            Assert.True(DateTime.UtcNow < deadline, $"pid {pid} still holds the relay's socket (inode {inode}) 15 s after the pod was removed");
            await Task.Delay(200);
        }
        var log = Fixture.Containerd.ReadLog();
        Assert.Contains($"port-forward relay on 127.0.0.1:{port} in {netns} closed", log);
    });

    /// <summary>The inode of the socket listening on 127.0.0.1:<paramref name="port"/> in a /proc/net/tcp table.</summary>
    private static string? ListenerInode(string procNetTcp, int port)
    {
        var local = $"0100007F:{port:X4}";
        foreach (var line in procNetTcp.Split('\n').Skip(1))
        {
            var f = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 9 && f[1] == local && f[3] == "0A")
                return f[9];
        }
        return null;
    }

    /// <summary>A process with the socket open, or null.</summary>
    private static int? SocketHolder(string? inode)
    {
        var target = $"socket:[{inode}]";
        foreach (var proc in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(proc), out var pid))
                continue;
            try
            {
                foreach (var fd in Directory.EnumerateFileSystemEntries(Path.Combine(proc, "fd")))
                {
                    if (new FileInfo(fd).LinkTarget == target)
                        return pid;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // The process exited meanwhile.
            }
        }
        return null;
    }

    private static async Task<string> RunAsync(string file, params string[] args)
    {
        var startInfo = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args)
            startInfo.ArgumentList.Add(a);
        using var process = Process.Start(startInfo)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await stderr}");
        return stdout;
    }
}
