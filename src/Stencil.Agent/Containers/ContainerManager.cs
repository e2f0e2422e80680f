using System.Globalization;
using Stencil.Agent.Guest;
using Stencil.Agent.Interop;
using Stencil.Agent.Logging;
using Stencil.Agent.Processes;
using Stencil.Oci;

namespace Stencil.Agent.Containers;

/// <summary>
/// Every container and process in the guest. Operations look the container up, check the move with
/// <see cref="ContainerStateMachine"/>, call the OCI runtime, and record the result. Exits come from
/// the <see cref="Reaper"/>.
/// </summary>
internal sealed class ContainerManager(Sandbox sandbox, IReadOnlyList<OciRuntime> runtimes, StorageMounter mounter, OomWatcher oom)
{
    private static readonly TimeSpan s_killWait = TimeSpan.FromSeconds(10);

    private readonly object _lock = new();
    // null while the container is being created: the id is taken, the container not usable yet.
    private readonly Dictionary<string, Container?> _containers = new(StringComparer.Ordinal);

    internal IReadOnlyList<OciRuntime> Runtimes => runtimes;

    internal OomWatcher Oom => oom;

    internal async Task<int> CreateAsync(string id, ReadOnlyMemory<byte> specJson, IReadOnlyList<StorageRequest> storages,
        IReadOnlyList<DeviceRequest> devices, string runtimeName, CancellationToken cancellationToken)
    {
        GuestPaths.CheckId(id, "container_id");
        var runtime = PickRuntime(runtimeName);
        lock (_lock)
        {
            if (!_containers.TryAdd(id, null))
                throw StencilException.AlreadyExists($"container \"{id}\" already exists");
        }
        var dir = GuestPaths.ContainerDir(id);
        var mounts = new List<string>();
        ProcessIo? io = null;
        ConsoleSocket? console = null;
        var created = false;
        var madeDir = false;
        try
        {
            var sharedRoot = sandbox.SharedRoot;
            var spec = SpecRewriter.Rewrite(specJson.Span, id, dir, sharedRoot);
            DeviceRewriter.Apply(spec, await FindDevicesAsync(devices, cancellationToken).ConfigureAwait(false));
            var privileged = PrivilegedDevices.Apply(spec, PrivilegedDevices.FromSysfs);
            if (privileged > 0)
                AgentLog.Info($"container {id}: privileged, given the guest's {privileged} device nodes");
            if (Directory.Exists(dir))
                throw StencilException.AlreadyExists($"{dir} is left over from an earlier container \"{id}\"");
            Directory.CreateDirectory(dir);
            madeDir = true;
            mounts.AddRange(await mounter.MountAllAsync(dir, sharedRoot, storages, cancellationToken).ConfigureAwait(false));

            // Now that the storages are mounted, the root must exist and must not lead out by a symlink.
            var roots = sharedRoot is null ? new[] { dir } : [dir, sharedRoot];
            var rootfs = GuestPaths.RealPathInside(spec.Root!.Path!, "root.path", roots);
            if (!Directory.Exists(rootfs))
                throw StencilException.InvalidArgument($"root.path \"{spec.Root.Path}\" is not a directory");
            spec.Root.Path = rootfs;
            var networkSysctls = SpecRewriter.TakeNetworkSysctls(spec);
            JoinSandboxNamespaces(spec);
            await File.WriteAllBytesAsync(Path.Combine(dir, "config.json"), SpecRewriter.Serialize(spec), cancellationToken).ConfigureAwait(false);
            await WriteSysctlsAsync(networkSysctls, cancellationToken).ConfigureAwait(false);

            var terminal = spec.Process?.Terminal ?? false;
            var pidFile = Path.Combine(dir, "init.pid");
            var pid = await RunWithStdioAsync(runtime, "create", dir, terminal,
                socket => cl => cl.Create(id, dir, pidFile, socket), pidFile, cancellationToken,
                onIo: (i, c) => { io = i; console = c; }).ConfigureAwait(false);

            var container = new Container(id, dir, runtime, mounts);
            container.Init = new GuestProcess(id, "", pid, io!, Reaper.Instance.WaitAsync(pid));
            _ = container.Init.Exit.ContinueWith(_ => OnInitExit(container), TaskScheduler.Default);
            lock (_lock)
                _containers[id] = container;
            created = true;
            oom.Add(id, container.CgroupDir);
            AgentLog.Debug($"container {id} created with {runtime.Name}, init pid {pid}");
            return pid;
        }
        finally
        {
            console?.Dispose();
            if (!created)
            {
                io?.Dispose();
                StorageMounter.UnmountAll(mounts);
                if (madeDir)
                    TryDeleteDir(dir);
                lock (_lock)
                    _containers.Remove(id);
            }
        }
    }

    /// <summary>Waits for each hot-plugged disk and reads its guest major:minor.</summary>
    private async Task<List<GuestDevice>> FindDevicesAsync(IReadOnlyList<DeviceRequest> devices, CancellationToken cancellationToken)
    {
        var found = new List<GuestDevice>();
        foreach (var d in devices)
        {
            var node = await mounter.Locator.WaitAsync(null, d.Serial, d.Timeout, cancellationToken).ConfigureAwait(false);
            var (major, minor) = mounter.Locator.DeviceNumbers(node);
            AgentLog.Debug($"device {d.ContainerPath}: disk {d.Serial} is {node} ({major}:{minor})");
            found.Add(new GuestDevice(d.ContainerPath, major, minor));
        }
        return found;
    }

    internal async Task StartAsync(string id, CancellationToken cancellationToken)
    {
        var c = Get(id);
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (c.Sync)
                ContainerStateMachine.Start(id, c.State);
            await c.Runtime.RunAsync($"start {id}", cl => cl.Start(id), c.Dir, null, cancellationToken).ConfigureAwait(false);
            lock (c.Sync)
            {
                // The init may already have run to its end (`true`): then it stays stopped.
                if (c.State == ContainerState.Created)
                    c.State = ContainerStateMachine.Start(id, c.State);
            }
        }
        finally
        {
            c.Operation.Release();
        }
    }

    internal Task PauseAsync(string id, CancellationToken cancellationToken) =>
        MoveAsync(id, ContainerStateMachine.Pause, "pause", cl => cl.Pause(id), cancellationToken);

    internal Task ResumeAsync(string id, CancellationToken cancellationToken) =>
        MoveAsync(id, ContainerStateMachine.Resume, "resume", cl => cl.Resume(id), cancellationToken);

    private async Task MoveAsync(string id, Func<string, ContainerState, ContainerState> move, string verb,
        Func<OciCommandLine, IReadOnlyList<string>> command, CancellationToken cancellationToken)
    {
        var c = Get(id);
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ContainerState next;
            lock (c.Sync)
                next = move(id, c.State);
            await c.Runtime.RunAsync($"{verb} {id}", command, c.Dir, null, cancellationToken).ConfigureAwait(false);
            lock (c.Sync)
            {
                if (c.State != ContainerState.Stopped)
                    c.State = next;
            }
        }
        finally
        {
            c.Operation.Release();
        }
    }

    internal async Task UpdateAsync(string id, ReadOnlyMemory<byte> resourcesJson, CancellationToken cancellationToken)
    {
        var c = Get(id);
        CheckJsonObject(resourcesJson, "resources_json");
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            lock (c.Sync)
                ContainerStateMachine.CheckUpdate(id, c.State);
            var file = Path.Combine(c.Dir, "resources.json");
            await File.WriteAllBytesAsync(file, resourcesJson.ToArray(), cancellationToken).ConfigureAwait(false);
            await c.Runtime.RunAsync($"update {id}", cl => cl.Update(id, file), c.Dir, null, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            c.Operation.Release();
        }
    }

    internal Protocols.Agent.ContainerStats Stats(string id) => CgroupStats.Read(Get(id).CgroupDir);

    /// <summary>The container's processes: every pid in its cgroup (and sub-cgroups), with its command line.</summary>
    internal IReadOnlyList<(int Pid, IReadOnlyList<string> Args)> ListProcesses(string id)
    {
        var c = Get(id);
        var result = new List<(int, IReadOnlyList<string>)>();
        if (!Directory.Exists(c.CgroupDir))
            return result;
        var files = new List<string> { Path.Combine(c.CgroupDir, "cgroup.procs") };
        files.AddRange(Directory.EnumerateFiles(c.CgroupDir, "cgroup.procs", SearchOption.AllDirectories).Where(f => f != files[0]));
        foreach (var file in files)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (IOException)
            {
                continue;
            }
            foreach (var line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
            {
                if (!int.TryParse(line, NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
                    continue;
                IReadOnlyList<string> args;
                try
                {
                    args = File.ReadAllText($"/proc/{pid}/cmdline").Split('\0', StringSplitOptions.RemoveEmptyEntries);
                }
                catch (IOException)
                {
                    continue;
                }
                result.Add((pid, args));
            }
        }
        return result;
    }

    /// <summary>
    /// The IPC, UTS (and PID) namespaces a CRI container shares with its pod's sandbox on the host are the
    /// sandbox container's in the guest: the shim lists them in an annotation (the host paths mean
    /// nothing here), and the container joins the ones of the sandbox's first process. Without a
    /// running sandbox container in this guest the container keeps namespaces of its own.
    /// </summary>
    private void JoinSandboxNamespaces(Stencil.Oci.Model.Spec spec)
    {
        if (spec.Annotations is not { } annotations
            || !annotations.TryGetValue(JoinSandboxNamespacesAnnotation, out var types)
            || !annotations.TryGetValue("io.kubernetes.cri.sandbox-id", out var sandboxId)
            || spec.Linux?.Namespaces is not { } namespaces)
            return;
        int? pid;
        lock (_lock)
            pid = _containers.GetValueOrDefault(sandboxId)?.Init?.Pid;
        if (pid is null)
            return;
        var join = types.Split(',');
        foreach (var ns in namespaces.Where(n => n.Type is "ipc" or "pid" or "uts" && join.Contains(n.Type)))
            ns.Path = $"/proc/{pid}/ns/{ns.Type}";
    }

    /// <summary>The shim's annotation (GuestSpecBuilder.JoinSandboxNamespacesAnnotation).</summary>
    internal const string JoinSandboxNamespacesAnnotation = "io.stencil.guest.join-sandbox-namespaces";

    /// <summary>The pod's network sysctls, written in the guest's root network namespace (the pod's network).</summary>
    private static async Task WriteSysctlsAsync(IReadOnlyList<(string Path, string Value)> sysctls, CancellationToken cancellationToken)
    {
        foreach (var (path, value) in sysctls)
        {
            try
            {
                await File.WriteAllTextAsync(path, value, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw StencilException.InvalidArgument($"sysctl {path} = \"{value}\" cannot be set in the guest: {e.Message}");
            }
        }
    }

    internal async Task<int> ExecAsync(string id, string execId, ReadOnlyMemory<byte> processJson, CancellationToken cancellationToken)
    {
        var c = Get(id);
        GuestPaths.CheckId(execId, "exec_id");
        var process = SpecRewriter.RewriteProcess(processJson.Span);
        lock (c.Sync)
        {
            ContainerStateMachine.CheckExec(id, c.State);
            if (!c.Execs.TryAdd(execId, null!))
                throw StencilException.AlreadyExists($"exec \"{execId}\" already exists in container \"{id}\"");
        }
        ProcessIo? io = null;
        ConsoleSocket? console = null;
        var done = false;
        try
        {
            var processFile = Path.Combine(c.Dir, $"exec-{execId}.json");
            var pidFile = Path.Combine(c.Dir, $"exec-{execId}.pid");
            await File.WriteAllBytesAsync(processFile, SpecJson.Serialize(process), cancellationToken).ConfigureAwait(false);
            var pid = await RunWithStdioAsync(c.Runtime, $"exec {execId} in", c.Dir, process.Terminal,
                socket => cl => cl.Exec(id, processFile, pidFile, socket), pidFile, cancellationToken,
                onIo: (i, s) => { io = i; console = s; }).ConfigureAwait(false);
            var guestProcess = new GuestProcess(id, execId, pid, io!, Reaper.Instance.WaitAsync(pid));
            lock (c.Sync)
                c.Execs[execId] = guestProcess;
            done = true;
            return pid;
        }
        finally
        {
            console?.Dispose();
            if (!done)
            {
                io?.Dispose();
                lock (c.Sync)
                    c.Execs.Remove(execId);
            }
        }
    }

    internal async Task SignalAsync(string id, string execId, int signal, bool all, CancellationToken cancellationToken)
    {
        if (signal is <= 0 or > 64)
            throw StencilException.InvalidArgument($"signal {signal} is not a signal number (1-64)");
        var c = Get(id);
        var p = GetProcess(c, execId);
        if (all && execId.Length == 0)
        {
            await c.Runtime.RunAsync($"kill --all {id}", cl => cl.Kill(id, signal, all: true), c.Dir, null, cancellationToken).ConfigureAwait(false);
            return;
        }
        // The agent is the process's parent and has not reaped it yet, so its pid cannot have been
        // reused: a direct kill(2) is exact and costs no runtime call.
        if (p.HasExited || Libc.Kill(p.Pid, signal) != 0)
            throw StencilException.NotFound($"{p.Describe()} has already exited");
    }

    internal async Task<ExitStatus> WaitAsync(string id, string execId, CancellationToken cancellationToken)
    {
        var p = GetProcess(Get(id), execId);
        return await p.Exit.WaitAsync(cancellationToken).ConfigureAwait(false);
    }

    internal GuestProcess Process(string id, string execId) => GetProcess(Get(id), execId);

    internal async Task RemoveAsync(string id, bool force, CancellationToken cancellationToken)
    {
        var c = Get(id);
        await c.Operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ContainerState state;
            lock (c.Sync)
            {
                state = c.State;
                ContainerStateMachine.CheckRemove(id, state, force);
            }
            if (!c.Init!.HasExited)
            {
                // A frozen container cannot die until thawed; a created one has an init waiting on
                // the runtime's fifo: delete --force handles both.
                await c.Runtime.RunAsync($"delete --force {id}", cl => cl.Delete(id, force: true), c.Dir, null, cancellationToken).ConfigureAwait(false);
                await c.Init.Exit.WaitAsync(s_killWait, cancellationToken).ConfigureAwait(false);
            }
            else
            {
                await c.Runtime.RunAsync($"delete {id}", cl => cl.Delete(id, force: true), c.Dir, null, cancellationToken).ConfigureAwait(false);
            }
            oom.Remove(id);
            lock (c.Sync)
            {
                foreach (var p in c.Execs.Values)
                    p?.Io.Dispose();
                c.Execs.Clear();
            }
            c.Init.Io.Dispose();
            StorageMounter.UnmountAll(c.Mounts);
            TryDeleteDir(c.Dir);
            lock (_lock)
                _containers.Remove(id);
            AgentLog.Debug($"container {id} removed");
        }
        finally
        {
            c.Operation.Release();
        }
    }

    /// <summary>Unmounts the sandbox's tmpfs volumes (DestroySandbox, after <see cref="RemoveAllAsync"/>).</summary>
    internal void UnmountEphemeralVolumes() => mounter.Ephemeral.UnmountAll();

    /// <summary>Removes every container (DestroySandbox).</summary>
    internal async Task RemoveAllAsync(CancellationToken cancellationToken)
    {
        string[] ids;
        lock (_lock)
            ids = _containers.Where(kv => kv.Value is not null).Select(kv => kv.Key).ToArray();
        foreach (var id in ids)
        {
            try
            {
                await RemoveAsync(id, force: true, cancellationToken).ConfigureAwait(false);
            }
            catch (StencilException ex)
            {
                AgentLog.Warn($"removing container {id}: {ex.Message}");
            }
        }
    }

    internal int Count
    {
        get
        {
            lock (_lock)
                return _containers.Count;
        }
    }

    /// <summary>
    /// Runs `create` or `exec` with the process's stdio: pipes passed through the runtime to the
    /// process, or a console socket the runtime sends the terminal's master to. Returns the pid.
    /// </summary>
    private static async Task<int> RunWithStdioAsync(OciRuntime runtime, string what, string dir, bool terminal,
        Func<string?, Func<OciCommandLine, IReadOnlyList<string>>> command, string pidFile, CancellationToken cancellationToken,
        Action<ProcessIo, ConsoleSocket?> onIo)
    {
        var id = Path.GetFileName(dir);
        if (terminal)
        {
            var io = ProcessIo.CreateTerminal();
            var console = new ConsoleSocket(GuestPaths.NewConsoleSocketPath());
            onIo(io, console);
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            var master = console.ReceiveMasterAsync(stop.Token);
            try
            {
                await runtime.RunAsync($"{what} {id}", command(console.Path), dir, null, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // The runtime failed: a master it may have sent is closed; the accept is given up.
                stop.Cancel();
                try
                {
                    Libc.Close(await master.ConfigureAwait(false));
                }
                catch (Exception ex) when (ex is OperationCanceledException or StencilException or System.Net.Sockets.SocketException)
                {
                }
                throw;
            }
            // The runtime has sent the master before it exits successfully.
            io.AttachTerminal(await master.WaitAsync(TimeSpan.FromSeconds(5), cancellationToken).ConfigureAwait(false));
        }
        else
        {
            var io = ProcessIo.CreatePipes(out var child);
            onIo(io, null);
            try
            {
                await runtime.RunAsync($"{what} {id}", command(null), dir, child, cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                // The process holds its own copies now; ours would keep its stdout from ever ending.
                child.Close();
            }
        }
        var text = await File.ReadAllTextAsync(pidFile, cancellationToken).ConfigureAwait(false);
        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) || pid <= 0)
            throw StencilException.Internal($"{runtime.Name} wrote \"{text.Trim()}\" to {pidFile}, not a pid");
        return pid;
    }

    private void OnInitExit(Container c)
    {
        var status = c.Init!.Exit.Result;
        lock (c.Sync)
            c.State = ContainerStateMachine.Exited(c.State);
        AgentLog.Debug($"container {c.Id}: {status}");
    }

    private OciRuntime PickRuntime(string name)
    {
        if (runtimes.Count == 0)
            throw StencilException.FailedPrecondition("the guest has no OCI runtime (neither crun nor runc)");
        if (string.IsNullOrEmpty(name))
            return runtimes[0];
        return runtimes.FirstOrDefault(r => r.Name == name)
            ?? throw StencilException.InvalidArgument($"oci_runtime \"{name}\" is not in the guest (it has {string.Join(", ", runtimes.Select(r => r.Name))})");
    }

    private Container Get(string id)
    {
        lock (_lock)
        {
            if (_containers.TryGetValue(id, out var c) && c is not null)
                return c;
        }
        throw StencilException.NotFound($"container \"{id}\" not found");
    }

    private static GuestProcess GetProcess(Container c, string execId)
    {
        if (execId.Length == 0)
            return c.Init!;
        lock (c.Sync)
        {
            if (c.Execs.TryGetValue(execId, out var p) && p is not null)
                return p;
        }
        throw StencilException.NotFound($"exec \"{execId}\" not found in container \"{c.Id}\"");
    }

    private static void CheckJsonObject(ReadOnlyMemory<byte> json, string field)
    {
        try
        {
            using var doc = System.Text.Json.JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind != System.Text.Json.JsonValueKind.Object)
                throw StencilException.InvalidArgument($"{field} is a JSON {doc.RootElement.ValueKind}, expected an object");
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw StencilException.InvalidArgument($"{field} is not valid JSON: {ex.Message}");
        }
    }

    private static void TryDeleteDir(string dir)
    {
        try
        {
            if (!Directory.Exists(dir))
                return;
            // Never delete through a mount that is still there: it could be the host's files.
            if (MountInfo.MountPointsUnder(dir).Count > 0)
            {
                AgentLog.Warn($"{dir} still has mounts; left in place");
                return;
            }
            Directory.Delete(dir, recursive: true);
        }
        catch (IOException ex)
        {
            AgentLog.Warn($"cannot delete {dir}: {ex.Message}");
        }
    }
}
