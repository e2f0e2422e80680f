using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// Handing a paused QEMU from one process to another: the factory daemon detaches a pooled clone,
// a shim attaches it. QEMU's QMP and agent sockets accept one client at a time, so the daemon
// closes its connections first; QEMU keeps running, paused, in between.
public sealed partial class QemuVm
{
    /// <summary>
    /// Lets go of a paused VM without stopping it: QMP is closed, QEMU is no longer killed on dispose
    /// and its sockets and pid file are left in place for the process that attaches it
    /// (<see cref="AttachAsync"/>). This object is finished afterwards (Stopped, <see cref="Exited"/>
    /// completed); QEMU, still this process's child, is reaped here when it exits.
    /// </summary>
    /// <returns>QEMU's pid.</returns>
    public async Task<int> DetachAsync(CancellationToken cancellationToken = default)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            QemuProcess process;
            QmpClient? qmp;
            lock (_gate)
            {
                if (_state != VmState.Paused || _process is null || _process.HasExited)
                    throw StencilException.FailedPrecondition($"vm {Name} is {_state}: only a paused, live VM can be handed over");
                _detached = true;
                _stopRequested = true;
                process = _process;
                qmp = _qmp;
            }
            process.Release();
            if (qmp is not null)
                await qmp.DisposeAsync().ConfigureAwait(false);
            await process.DisposeAsync().ConfigureAwait(false);
            ReleaseAfterExit();
            return process.Id;
        }
        finally
        {
            _operation.Release();
        }
    }

    /// <summary>
    /// Sets the nice value of every QEMU thread (Linux keeps it per thread; threads QEMU starts later
    /// inherit it from the thread that starts them). A pool makes its clones at 19, so a restore only
    /// takes CPU time the pods leave idle; a clone is set back to 0 when a pod takes it. Best effort:
    /// returns how many threads could not be changed.
    /// </summary>
    public int SetNice(int nice)
    {
        if (_process is not { } process || process.HasExited)
            return 0;
        var failed = 0;
        IEnumerable<string> tasks;
        try
        {
            tasks = Directory.EnumerateDirectories($"/proc/{process.Id}/task").ToList();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return 1;
        }
        foreach (var task in tasks)
        {
            if (int.TryParse(Path.GetFileName(task), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var tid)
                && Interop.Libc.SetThreadNice(tid, nice) != 0)
            {
                failed++;
            }
        }
        return failed;
    }

    /// <summary>
    /// Takes over a paused QEMU another process started with this description and instance (a clone
    /// the factory daemon handed over): adopts its pid (<see cref="QemuProcess.Adopt"/>), connects
    /// QMP and checks that QEMU reports "paused". The VM is then Paused and owned here: disposing it
    /// kills QEMU and removes its sockets and pid file. If anything fails, QEMU is killed.
    /// </summary>
    public static async Task<QemuVm> AttachAsync(VmDescription description, VmInstance instance, int pid, QemuVmOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var vm = Create(description, instance, options);
        try
        {
            await vm.AttachCoreAsync(pid, cancellationToken).ConfigureAwait(false);
            return vm;
        }
        catch
        {
            await vm.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    private async Task AttachCoreAsync(int pid, CancellationToken cancellationToken)
    {
        await _operation.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var process = QemuProcess.Adopt(pid, Instance.Paths.QmpSocket, _options.QemuBinary);
            lock (_gate)
                _process = process;
            _ = WatchExitAsync(process);
            _qmp = await ConnectQmpAsync(process, cancellationToken).ConfigureAwait(false);
            _eventPump = PumpEventsAsync(_qmp);
            WatchConsoleLog();
            var status = await QueryStatusCoreAsync(cancellationToken).ConfigureAwait(false);
            if (status != "paused")
                throw StencilException.FailedPrecondition($"vm {Name}: the handed-over QEMU (pid {pid}) is \"{status}\", expected \"paused\"");
            Move(VmState.Created, VmState.Paused);
        }
        finally
        {
            _operation.Release();
        }
    }
}
