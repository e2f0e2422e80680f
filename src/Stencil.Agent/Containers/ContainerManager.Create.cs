using Stencil.Agent.Pod;
using Stencil.Agent.Processes;
using Stencil.Oci;

namespace Stencil.Agent.Containers;

/// <summary>CreateContainer: the bundle, its storages and devices, the spec crun is given, `crun create`.</summary>
internal sealed partial class ContainerManager
{
    /// <summary>The shim's annotation (GuestSpecBuilder.JoinSandboxNamespacesAnnotation).</summary>
    internal const string JoinSandboxNamespacesAnnotation = StencilAnnotations.JoinSandboxNamespaces;

    internal Task<int> CreateAsync(string id, ReadOnlyMemory<byte> specJson, IReadOnlyList<StorageRequest> storages,
        IReadOnlyList<DeviceRequest> devices, string runtimeName, CancellationToken cancellationToken) =>
        CreateAsync(id, specJson, storages, devices, runtimeName, new StepTimes(), cancellationToken);

    /// <param name="steps">Where the time goes: spec, devices, storage, bundle, runtime create (the host logs them).</param>
    internal async Task<int> CreateAsync(string id, ReadOnlyMemory<byte> specJson, IReadOnlyList<StorageRequest> storages,
        IReadOnlyList<DeviceRequest> devices, string runtimeName, StepTimes steps, CancellationToken cancellationToken)
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
        IConsoleSocket? console = null;
        var created = false;
        var madeDir = false;
        try
        {
            var sharedRoot = _sandbox.SharedRoot;
            var spec = SpecRewriter.Rewrite(specJson.Span, id, dir, sharedRoot);
            steps.Mark("spec");
            if (IsHeld(spec))
            {
                var heldPid = await CreateHeldAsync(id, spec, dir, runtime, steps, cancellationToken).ConfigureAwait(false);
                created = true;
                return heldPid;
            }
            DeviceRewriter.Apply(spec, await FindDevicesAsync(devices, cancellationToken).ConfigureAwait(false));
            var privileged = PrivilegedDevices.Apply(spec, _syscalls.GuestDeviceNodes);
            if (privileged > 0)
                _log.Info($"container {id}: privileged, given the guest's {privileged} device nodes");
            if (_syscalls.DirectoryExists(dir))
                throw StencilException.AlreadyExists($"{dir} is left over from an earlier container \"{id}\"");
            _syscalls.CreateDirectory(dir);
            madeDir = true;
            steps.Mark("devices");
            mounts.AddRange(await _syscalls.MountStoragesAsync(dir, sharedRoot, storages, cancellationToken).ConfigureAwait(false));
            steps.Mark("storage");

            // Now that the storages are mounted, the root must exist and must not lead out by a symlink.
            var roots = sharedRoot is null ? new[] { dir } : [dir, sharedRoot];
            var rootfs = _syscalls.RealPathInside(spec.Root!.Path!, "root.path", roots);
            if (!_syscalls.DirectoryExists(rootfs))
                throw StencilException.InvalidArgument($"root.path \"{spec.Root.Path}\" is not a directory");
            spec.Root.Path = rootfs;
            var networkSysctls = SpecRewriter.TakeNetworkSysctls(spec);
            JoinSandboxNamespaces(spec);
            AddPodMounts(spec);
            await _syscalls.WriteFileAsync(Path.Combine(dir, "config.json"), SpecRewriter.Serialize(spec), cancellationToken).ConfigureAwait(false);
            await WriteSysctlsAsync(networkSysctls, cancellationToken).ConfigureAwait(false);
            steps.Mark("bundle");

            var terminal = spec.Process?.Terminal ?? false;
            var pidFile = Path.Combine(dir, "init.pid");
            var pid = await RunWithStdioAsync(runtime, "create", dir, terminal,
                socket => cl => cl.Create(id, dir, pidFile, socket), pidFile,
                onIo: (i, c) => { io = i; console = c; }, cancellationToken).ConfigureAwait(false);
            steps.Mark($"{runtime.Name} create");

            var container = new Container(id, dir, runtime, mounts);
            container.Init = new GuestProcess(id, "", pid, io!, _reaper.WaitAsync(pid));
            _ = container.Init.Exit.ContinueWith(_ => OnInitExit(container), TaskScheduler.Default);
            lock (_lock)
                _containers[id] = container;
            created = true;
            _oom.Add(id, container.CgroupDir);
            _log.Debug($"container {id} created with {runtime.Name}, init pid {pid}: {steps}");
            return pid;
        }
        finally
        {
            console?.Dispose();
            if (!created)
            {
                io?.Dispose();
                _syscalls.Unmount(mounts);
                if (madeDir)
                    TryDeleteDir(dir);
                lock (_lock)
                    _containers.Remove(id);
            }
        }
    }

    private IOciRuntime PickRuntime(string name)
    {
        if (_runtimes.Count == 0)
            throw StencilException.FailedPrecondition("the guest has no OCI runtime (neither crun nor runc)");
        if (string.IsNullOrEmpty(name))
            return _runtimes[0];
        return _runtimes.FirstOrDefault(r => r.Name == name)
            ?? throw StencilException.InvalidArgument($"oci_runtime \"{name}\" is not in the guest (it has {string.Join(", ", _runtimes.Select(r => r.Name))})");
    }

    /// <summary>Waits for each hot-plugged disk and reads its guest major:minor.</summary>
    private async Task<List<GuestDevice>> FindDevicesAsync(IReadOnlyList<DeviceRequest> devices, CancellationToken cancellationToken)
    {
        var found = new List<GuestDevice>();
        foreach (var d in devices)
        {
            var node = await _syscalls.WaitForDiskAsync(d.Serial, d.Timeout, cancellationToken).ConfigureAwait(false);
            var (major, minor) = _syscalls.DeviceNumbers(node);
            _log.Debug($"device {d.ContainerPath}: disk {d.Serial} is {node} ({major}:{minor})");
            found.Add(new GuestDevice(d.ContainerPath, major, minor));
        }
        return found;
    }

    /// <summary>
    /// The IPC, UTS (and PID) namespaces a CRI container shares with its pod's sandbox on the host are the
    /// sandbox container's in the guest: the shim lists them in an annotation (the host paths mean
    /// nothing here), and the container joins the ones of the sandbox's first process. A pod without a
    /// sandbox container (created with pod namespaces) has them in the agent's namespace holder.
    /// Without either the container keeps namespaces of its own.
    /// </summary>
    private void JoinSandboxNamespaces(Stencil.Oci.Model.Spec spec)
    {
        if (spec.Annotations is not { } annotations
            || !annotations.TryGetValue(JoinSandboxNamespacesAnnotation, out var types)
            || !annotations.TryGetValue(CriAnnotations.SandboxId, out var sandboxId)
            || spec.Linux?.Namespaces is not { } namespaces)
            return;
        int? pid;
        lock (_lock)
            pid = _containers.GetValueOrDefault(sandboxId)?.Init?.Pid;
        if (pid is null && _sandbox.Pod is { } pod && pod.SandboxId == sandboxId)
            pid = pod.HolderPid;
        if (pid is null)
            return;
        var join = types.Split(',');
        foreach (var ns in namespaces.Where(n => n.Type is "ipc" or "pid" or "uts" && join.Contains(n.Type)))
            ns.Path = $"/proc/{pid}/ns/{ns.Type}";
    }

    /// <summary>
    /// A CRI container of a pod created with pod namespaces gets what containerd's CRI gives it when a
    /// pause container holds the pod: the pod's hostname, hosts and resolv.conf, and the pod's
    /// /dev/shm, one tmpfs for all its containers (their shared memory must be one memory).
    /// </summary>
    private void AddPodMounts(Stencil.Oci.Model.Spec spec)
    {
        if (_sandbox.Pod is not { } pod || !PodMounts.IsPodContainer(spec, pod.SandboxId))
            return;
        var podShm = PodMounts.PrivateShm(spec) is { } shm
            ? _syscalls.EnsureEphemeralVolume(PodMounts.ShmVolume, shm.Options ?? [], $"mounts[{PodMounts.ShmDestination}]")
            : null;
        PodMounts.Apply(spec, pod.FilesDir, podShm);
    }

    /// <summary>The pod's network sysctls, written in the guest's root network namespace (the pod's network).</summary>
    private async Task WriteSysctlsAsync(IReadOnlyList<(string Path, string Value)> sysctls, CancellationToken cancellationToken)
    {
        foreach (var (path, value) in sysctls)
        {
            try
            {
                await _syscalls.WriteTextAsync(path, value, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw StencilException.InvalidArgument($"sysctl {path} = \"{value}\" cannot be set in the guest: {e.Message}");
            }
        }
    }

    /// <summary>The reaper saw the init exit: the container is stopped, whatever it was doing.</summary>
    private void OnInitExit(Container c)
    {
        var status = c.Init!.Exit.Result;
        lock (c.Sync)
            c.State = ContainerStateMachine.Exited(c.State);
        _log.Debug($"container {c.Id}: {status}");
    }
}
