using System.Diagnostics;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Stencil.Bench.Shim;

/// <summary>
/// Times the shim binary's `start` and `delete` run as containerd runs them: in the bundle, with
/// containerd's -address and TTRPC_ADDRESS, the runtime options (naming the configuration file) on
/// stdin, and the time running until the process exited and both output streams reached EOF (what
/// containerd waits for). `start` spawns the pod's daemon and returns once it listens; the VM only
/// starts at the first Create, so no VM is involved. Between the two, the daemon is stopped with
/// SIGTERM (as after a task's Shutdown).
/// </summary>
internal static class ShimStartProbe
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(30);
    private const int SigTerm = 15;

    public static async Task<(List<double> StartMs, List<double> DeleteMs)> MeasureAsync(
        BenchEnvironment environment, string configPath, int runs, CancellationToken cancellationToken)
    {
        var options = new Any
        {
            TypeUrl = "runtimeoptions.v1.Options",
            Value = new Protocols.RuntimeOptions.Options { ConfigPath = configPath }.ToByteString(),
        }.ToByteArray();
        var starts = new List<double>();
        var deletes = new List<double>();
        for (var i = 0; i < runs; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = $"start-{i}";
            var bundle = Directory.CreateDirectory(Path.Combine(environment.Dir, "bundles", id)).FullName;
            Directory.CreateDirectory(Path.Combine(bundle, "rootfs"));
            await File.WriteAllTextAsync(Path.Combine(bundle, "config.json"),
                """{"ociVersion":"1.0.2","process":{"args":["true"],"cwd":"/"},"root":{"path":"rootfs"}}""", cancellationToken).ConfigureAwait(false);

            var (code, stdout, stderr, elapsed) = await RunAsync(environment, bundle, options, Common(environment, id, "start")).ConfigureAwait(false);
            if (code != 0 || !stdout.StartsWith("unix://", StringComparison.Ordinal))
                throw new InvalidOperationException($"containerd-shim-stencil-v2 start {id} exited {code}; stdout: {stdout}; stderr: {stderr}");
            starts.Add(elapsed.TotalMilliseconds);

            var daemon = PodMemory.FindDaemon(id, environment.SocketDir);
            _ = Kill(daemon, SigTerm);
            var deadline = DateTime.UtcNow + s_timeout;
            while (!ProcessMemory.IsZombie(daemon) && Directory.Exists($"/proc/{daemon}"))
            {
                if (DateTime.UtcNow > deadline)
                    throw new TimeoutException($"shim daemon {daemon} of {id} still runs {s_timeout.TotalSeconds} s after SIGTERM");
                await Task.Delay(10, cancellationToken).ConfigureAwait(false);
            }

            (code, _, stderr, elapsed) = await RunAsync(environment, bundle, [], [.. Common(environment, id, null), "-bundle", bundle, "delete"]).ConfigureAwait(false);
            if (code != 0)
                throw new InvalidOperationException($"containerd-shim-stencil-v2 delete {id} exited {code}: {stderr}");
            deletes.Add(elapsed.TotalMilliseconds);
            Directory.Delete(bundle, recursive: true);
        }
        return (starts, deletes);
    }

    private static string[] Common(BenchEnvironment environment, string id, string? action) =>
    [
        "-namespace", BenchEnvironment.Namespace, "-address", environment.Containerd.Address,
        "-publish-binary", "/usr/bin/containerd", "-id", id, .. action is null ? Array.Empty<string>() : [action],
    ];

    private static async Task<(int Code, string Stdout, string Stderr, TimeSpan Elapsed)> RunAsync(
        BenchEnvironment environment, string workingDirectory, byte[] stdin, IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(environment.ShimBinary)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
            info.ArgumentList.Add(arg);
        info.Environment["TTRPC_ADDRESS"] = environment.Containerd.TtrpcAddress;
        info.Environment.Remove("STENCIL_CONFIG");

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"could not start {environment.ShimBinary}");
        try
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin).ConfigureAwait(false);
            process.StandardInput.Close();
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await Task.WhenAll(stdout, stderr).WaitAsync(s_timeout).ConfigureAwait(false);
            await process.WaitForExitAsync().WaitAsync(s_timeout).ConfigureAwait(false);
            var elapsed = clock.Elapsed;
            return (process.ExitCode, await stdout.ConfigureAwait(false), await stderr.ConfigureAwait(false), elapsed);
        }
        catch (TimeoutException)
        {
            process.Kill();
            throw new TimeoutException($"containerd-shim-stencil-v2 {string.Join(' ', args)} did not finish within {s_timeout.TotalSeconds} s");
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
