using Stencil.Cri.V1;
using Stencil.TestSupport;

namespace Stencil.Cri.Tests.Conformance;

/// <summary>
/// What the volume, device and namespace conformance tests share: running a container to its exit,
/// reading what it logged, parsing KEY=VALUE probe lines, and host commands that must succeed.
/// </summary>
internal static class ConformanceRun
{
    public static readonly TimeSpan ExecTimeout = TimeSpan.FromSeconds(20);

    /// <summary>A busybox container running <paramref name="script"/> with sh -c.</summary>
    public static ContainerConfig Shell(string name, string script) =>
        CriConfig.Container(name, CriContainerdFixture.BusyboxImage, "sh", "-c", script);

    /// <summary>Creates and starts the container, waits until it exited and returns its status and log text.</summary>
    public static async Task<(ContainerStatus Status, string Log)> RunToExitAsync(CriClient client, CriPod pod, ContainerConfig config)
    {
        var id = await pod.RunContainerAsync(config);
        var status = await WaitForExitAsync(client, id);
        return (status, LogText(pod, config));
    }

    public static async Task<ContainerStatus> WaitForExitAsync(CriClient client, string id)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var status = await client.ContainerStatusAsync(id);
            if (status.State == ContainerState.ContainerExited)
                return status;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"container {status.Metadata.Name} ({id}) did not exit within 60 s: {status.State}");
            await Task.Delay(200);
        }
    }

    /// <summary>Waits until the container's log has a line <paramref name="line"/> (a container that goes on running).</summary>
    public static async Task WaitForLogLineAsync(CriPod pod, ContainerConfig config, string line)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (!LogText(pod, config).Split('\n').Contains(line))
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"container {config.Metadata.Name}: no line \"{line}\" in its log within 60 s:\n{LogText(pod, config)}");
            await Task.Delay(200);
        }
    }

    /// <summary>The container's output from its CRI log file (TIMESTAMP STREAM TAG TEXT per line), one line per entry.</summary>
    public static string LogText(CriPod pod, ContainerConfig config)
    {
        var path = Path.Combine(pod.Config.LogDirectory, config.LogPath);
        if (!File.Exists(path))
            return "";
        return string.Join('\n', File.ReadAllLines(path).Select(l => l.Split(' ', 4)).Where(p => p.Length == 4).Select(p => p[3]));
    }

    /// <summary>KEY=VALUE lines of a probe's output (later lines win).</summary>
    public static Dictionary<string, string> Parse(string text)
    {
        var values = new Dictionary<string, string>();
        foreach (var line in text.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0)
                values[line[..eq]] = line[(eq + 1)..];
        }
        return values;
    }

    /// <summary>Runs a host command that must succeed and returns its stdout.</summary>
    public static async Task<string> HostAsync(string file, params string[] args)
    {
        var result = await ChildProcess.RunAsync(file, args, TimeSpan.FromSeconds(30));
        return result.EnsureSuccess($"{file} {string.Join(' ', args)}");
    }
}
