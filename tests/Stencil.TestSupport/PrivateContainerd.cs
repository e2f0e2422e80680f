using System.Diagnostics;
using System.Text;
using Stencil.Containerd;
using Stencil.Interop;
using Tmds.Linux;

namespace Stencil.TestSupport;

/// <summary>
/// containerd (the first on PATH: Debian 12's 1.6, or 1.7 / 2.x unpacked by scripts/containerd-release.sh) started by a test with its own root, state, sockets and opt folder under
/// one short private folder (/tmp/stencil-ctd-XXXX: unix socket paths must stay under 108 bytes),
/// cgroupfs, overlayfs, and the CRI plugin configured as this machine needs it (no CAP_SYS_RESOURCE:
/// restrict_oom_score_adj; no AppArmor). Disposing stops it (SIGTERM, then SIGKILL), unmounts whatever
/// is left mounted under the folder, and removes the folder. Note that containerd still uses
/// /run/containerd/{s,fifo,runc} for shim sockets and FIFOs, whatever its config says.
/// <see cref="RestartAsync"/> stops and starts it again on the same folder, as a service manager would.
/// </summary>
public sealed class PrivateContainerd : IAsyncDisposable
{
    private static readonly TimeSpan s_startTimeout = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan s_stopTimeout = TimeSpan.FromSeconds(10);

    private readonly string _containerd;
    private readonly string _ctr;
    private readonly PrivateContainerdOptions _options;
    private Process _process;
    private bool _disposed;

    private PrivateContainerd(string directory, Process process, string containerd, string ctr, PrivateContainerdOptions options, ContainerdVersion? version = null)
    {
        Version = version;
        Directory = directory;
        _process = process;
        _containerd = containerd;
        _ctr = ctr;
        _options = options;
    }

    /// <summary>The private folder everything lives in.</summary>
    public string Directory { get; }

    /// <summary>The gRPC socket (ctr's --address).</summary>
    public string Address => Path.Combine(Directory, "c.sock");

    /// <summary>The ttRPC socket (what a shim gets as TTRPC_ADDRESS, where events are forwarded).</summary>
    public string TtrpcAddress => Path.Combine(Directory, "c.sock.ttrpc");

    public string Root => Path.Combine(Directory, "root");

    public string State => Path.Combine(Directory, "state");

    public string ConfigPath => Path.Combine(Directory, "config.toml");

    public string LogPath => Path.Combine(Directory, "containerd.log");

    public int Pid => _process.Id;

    /// <summary>The release running (from `containerd --version`): the test matrix runs the suites
    /// against 1.6, 1.7 and 2.x, chosen by which containerd is first on PATH (scripts/run-tests.sh).</summary>
    public ContainerdVersion? Version { get; }

    /// <summary>The folder containerd keeps a task's bundle in (config.json, address, bootstrap.json).</summary>
    public string TaskBundle(string @namespace, string id) => Path.Combine(State, "io.containerd.runtime.v2.task", @namespace, id);

    public static Task<PrivateContainerd> StartAsync(string? extraToml = null, CancellationToken cancellationToken = default) =>
        StartAsync(new PrivateContainerdOptions { ExtraToml = extraToml }, cancellationToken);

    public static async Task<PrivateContainerd> StartAsync(PrivateContainerdOptions options, CancellationToken cancellationToken = default)
    {
        var containerd = Prerequisite.Executable("containerd", "make deps");
        var ctr = Prerequisite.Executable("ctr", "make deps");
        var directory = System.IO.Directory.CreateTempSubdirectory("stencil-ctd-").FullName;
        Process? process = null;
        try
        {
            var version = ContainerdVersion.FromVersionCommand(
                (await ChildProcess.RunAsync(containerd, ["--version"], TimeSpan.FromSeconds(30))).EnsureSuccess("containerd --version"));
            var config = Config(directory, options, version);
            await File.WriteAllTextAsync(Path.Combine(directory, "config.toml"), config, cancellationToken);
            process = Launch(containerd, directory, options);
            var started = new PrivateContainerd(directory, process, containerd, ctr, options, version);
            await started.WaitUntilAnsweringAsync(cancellationToken);
            return started;
        }
        catch
        {
            if (process is not null)
                await new PrivateContainerd(directory, process, containerd, ctr, options).DisposeAsync();
            else
                System.IO.Directory.Delete(directory, recursive: true);
            throw;
        }
    }

    private static Process Launch(string containerd, string directory, PrivateContainerdOptions options)
    {
        // Through sh so containerd's output goes to a file: shims it spawns may inherit its stdio,
        // and a pipe held open by them would outlive containerd and hang whoever reads it. Appended,
        // so that a restart keeps the log of the run before it.
        var info = new ProcessStartInfo("/bin/sh") { UseShellExecute = false };
        foreach (var argument in new[] { "-c", "exec \"$0\" --config \"$1\" >>\"$2\" 2>&1 </dev/null", containerd,
                     Path.Combine(directory, "config.toml"), Path.Combine(directory, "containerd.log") })
            info.ArgumentList.Add(argument);
        if (options.Environment is not null)
        {
            foreach (var (key, value) in options.Environment)
                info.Environment[key] = value;
        }
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start {containerd}");
    }

    /// <summary>
    /// Stops containerd (SIGTERM, SIGKILL if it lingers) and starts it again with the same config,
    /// root, state, sockets and environment; returns once it answers. The shims it started keep
    /// running: the new containerd finds them through each bundle's `address` file.
    /// </summary>
    public async Task RestartAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        await StopAsync();
        _process.Dispose();
        _process = Launch(_containerd, Directory, _options);
        await WaitUntilAnsweringAsync(cancellationToken);
    }

    private async Task StopAsync()
    {
        if (_process.HasExited)
            return;
        _ = Libc.Kill(_process.Id, LibC.SIGTERM);
        try
        {
            await _process.WaitForExitAsync().WaitAsync(s_stopTimeout);
        }
        catch (TimeoutException)
        {
            _process.Kill();
            await _process.WaitForExitAsync().WaitAsync(s_stopTimeout);
        }
    }

    /// <summary>
    /// The generated config.toml, every path inside <paramref name="directory"/>: version 2 for
    /// containerd 1.x, version 3 for 2.x (as each release's own `config default` writes it). The
    /// options' TOML is written with version 2 table names; for version 3 the CRI tables are renamed
    /// (<see cref="ToVersion3Tables"/>).
    /// </summary>
    public static string Config(string directory, PrivateContainerdOptions options, ContainerdVersion? version = null)
    {
        var v3 = version is { Major: >= 2 };
        var toml = new StringBuilder();
        toml.AppendLine($"""
            version = {(v3 ? 3 : 2)}
            root = "{directory}/root"
            state = "{directory}/state"

            [grpc]
              address = "{directory}/c.sock"

            [ttrpc]
              address = "{directory}/c.sock.ttrpc"

            [plugins."io.containerd.internal.v1.opt"]
              path = "{directory}/opt"

            """);
        if (v3)
        {
            toml.AppendLine("""
                [plugins."io.containerd.cri.v1.runtime"]
                  restrict_oom_score_adj = true
                  disable_apparmor = true

                [plugins."io.containerd.cri.v1.images"]
                  snapshotter = "overlayfs"
                """);
            if (options.SandboxImage is { } sandbox)
                toml.AppendLine($"""

                    [plugins."io.containerd.cri.v1.images".pinned_images]
                      sandbox = "{sandbox}"
                    """);
        }
        else
        {
            toml.AppendLine("""
                [plugins."io.containerd.grpc.v1.cri"]
                  restrict_oom_score_adj = true
                  disable_apparmor = true
                """);
            if (options.SandboxImage is { } sandbox)
                toml.AppendLine($"  sandbox_image = \"{sandbox}\"");
            toml.AppendLine("""

                [plugins."io.containerd.grpc.v1.cri".containerd]
                  snapshotter = "overlayfs"
                """);
        }
        toml.AppendLine(ToVersion(v3, """

            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
              runtime_type = "io.containerd.runc.v2"

            [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
              SystemdCgroup = false
            """));
        if (!string.IsNullOrWhiteSpace(options.ExtraToml))
            toml.AppendLine().AppendLine(ToVersion(v3, options.ExtraToml));
        return toml.ToString();
    }

    private static string ToVersion(bool v3, string toml) => v3 ? ToVersion3Tables(toml) : toml;

    /// <summary>
    /// Version 2 CRI table names as containerd 2.x names them in a version 3 file: the runtimes and CNI
    /// moved from io.containerd.grpc.v1.cri to io.containerd.cri.v1.runtime (what `containerd config
    /// migrate` does for these tables).
    /// </summary>
    public static string ToVersion3Tables(string toml) => toml
        .Replace("[plugins.\"io.containerd.grpc.v1.cri\".containerd.runtimes.", "[plugins.\"io.containerd.cri.v1.runtime\".containerd.runtimes.", StringComparison.Ordinal)
        .Replace("[plugins.\"io.containerd.grpc.v1.cri\".cni]", "[plugins.\"io.containerd.cri.v1.runtime\".cni]", StringComparison.Ordinal);

    /// <summary>`ctr --address Address -n NAMESPACE args...` run to completion.</summary>
    public Task<CommandResult> CtrAsync(string @namespace, params string[] args) =>
        CtrAsync(@namespace, args, TimeSpan.FromSeconds(60));

    public Task<CommandResult> CtrAsync(string @namespace, IEnumerable<string> args, TimeSpan timeout) =>
        ChildProcess.RunAsync(_ctr, CtrArguments(@namespace, args), timeout);

    /// <summary>`ctr ...` left running (e.g. `events`), its output readable line by line; dispose it to kill it.</summary>
    public ChildProcess StartCtr(string @namespace, params string[] args) =>
        ChildProcess.Start(_ctr, CtrArguments(@namespace, args));

    public string ReadLog() => File.Exists(LogPath) ? File.ReadAllText(LogPath) : "(no log)";

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
            return;
        _disposed = true;
        try
        {
            await StopAsync();
        }
        finally
        {
            _process.Dispose();
            await UnmountUnderAsync(Directory);
            await DeleteDirectoryAsync(Directory);
        }
    }

    private IEnumerable<string> CtrArguments(string @namespace, IEnumerable<string> args) =>
        new[] { "--address", Address, "--namespace", @namespace }.Concat(args);

    private async Task WaitUntilAnsweringAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + s_startTimeout;
        CommandResult? last = null;
        while (DateTime.UtcNow < deadline)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (_process.HasExited)
                throw new InvalidOperationException($"containerd exited with {_process.ExitCode} while starting; log:\n{ReadLog()}");
            if (File.Exists(Address))
            {
                last = await ChildProcess.RunAsync(_ctr, ["--address", Address, "version"], TimeSpan.FromSeconds(10));
                if (last.ExitCode == 0 && File.Exists(TtrpcAddress))
                    return;
            }
            await Task.Delay(100, cancellationToken);
        }
        throw new TimeoutException($"containerd did not answer on {Address} within {s_startTimeout}; ctr version said: {last?.Stderr}; log:\n{ReadLog()}");
    }

    /// <summary>Lazily unmounts every mount point at or below <paramref name="directory"/>, deepest first
    /// (snapshots of a task that was never cleaned up).</summary>
    private static async Task UnmountUnderAsync(string directory)
    {
        var mounts = File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4])
            .Select(UnescapeMountPath)
            .Where(m => m == directory || m.StartsWith(directory + "/", StringComparison.Ordinal))
            .OrderByDescending(m => m.Length)
            .ToList();
        foreach (var mount in mounts)
            await ChildProcess.RunAsync("umount", ["-l", mount], TimeSpan.FromSeconds(10));
    }

    private static string UnescapeMountPath(string path) =>
        System.Text.RegularExpressions.Regex.Replace(path, @"\\([0-7]{3})", m => ((char)Convert.ToInt32(m.Groups[1].Value, 8)).ToString());

    private static async Task DeleteDirectoryAsync(string directory)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                if (System.IO.Directory.Exists(directory))
                    System.IO.Directory.Delete(directory, recursive: true);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
                await Task.Delay(200);
            }
        }
    }
}
