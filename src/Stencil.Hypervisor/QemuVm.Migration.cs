using System.Text.Json;
using Microsoft.Win32.SafeHandles;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor;

// Save and restore with x-ignore-shared, through a state file handed to QEMU as an fd.
public sealed partial class QemuVm
{
    /// <summary>getfd name of the state file during a save or restore; consumed by the migration.</summary>
    private const string MigrationFdName = "stencil-migration";

    /// <summary>Both ends of a save/restore must agree on it, or QEMU refuses the stream.</summary>
    private const string IgnoreSharedCapability = "x-ignore-shared";

    /// <summary>
    /// Saves the device state to <paramref name="stateFile"/> with x-ignore-shared: RAM in a shared
    /// memory file (a template's) is not copied, only referenced. Paused -> Saved. The file is written
    /// by QEMU through an fd we pass it (no shell, no helper process); a failed save deletes it.
    /// </summary>
    public Task SaveAsync(string stateFile, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckPath("state_file", stateFile);
        var action = $"saving vm {Name} to {stateFile}";
        return RunAsync(VmOperation.Save, action, _options.MigrationTimeout, async ct =>
        {
            await SetIgnoreSharedAsync(ct).ConfigureAwait(false);
            var file = CreateStateFile(stateFile);
            try
            {
                using (file)
                    await Qmp.SendFdAsync(MigrationFdName, file.SafeFileHandle, ct).ConfigureAwait(false);
                await MigrateWithFdAsync(QmpCommands.Migrate(MigrationUri), ct).ConfigureAwait(false);
                await WaitForMigrationAsync(action, ct).ConfigureAwait(false);
            }
            catch
            {
                OwnedFiles.TryDelete(stateFile);
                throw;
            }
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// Loads a saved state into a clone started with -incoming defer (x-ignore-shared on, like the
    /// save). Incoming -> Paused: send <see cref="ResumeAsync"/> to run it. If the state does not
    /// match this VM, QEMU exits and the error carries QEMU's reason (<see cref="ExitReason"/> names it).
    /// </summary>
    public Task RestoreAsync(string stateFile, CancellationToken cancellationToken = default)
    {
        QemuOptionText.CheckPath("state_file", stateFile);
        var action = $"restoring vm {Name} from {stateFile}";
        return RunAsync(VmOperation.Restore, action, _options.MigrationTimeout, async ct =>
        {
            await SetIgnoreSharedAsync(ct).ConfigureAwait(false);
            await LoadIncomingAsync(stateFile, action, ct).ConfigureAwait(false);
            return true;
        }, cancellationToken);
    }

    /// <summary>
    /// migrate-incoming from <paramref name="stateFile"/> (passed as an fd), waits until it is loaded and
    /// checks QEMU is paused then: the saved run state comes back with the state, and a template (or a
    /// checkpoint's device state loaded with -S) restores paused.
    /// </summary>
    private async Task LoadIncomingAsync(string stateFile, string action, CancellationToken cancellationToken)
    {
        using (var file = OpenStateFile(stateFile))
            await Qmp.SendFdAsync(MigrationFdName, file, cancellationToken).ConfigureAwait(false);
        await MigrateWithFdAsync(QmpCommands.MigrateIncoming(MigrationUri), cancellationToken).ConfigureAwait(false);
        await WaitForMigrationAsync(action, cancellationToken).ConfigureAwait(false);
        var status = await QueryStatusCoreAsync(cancellationToken).ConfigureAwait(false);
        if (status != "paused")
            throw StencilException.Internal($"{action}: qemu reports status \"{status}\" after loading, expected \"paused\"");
    }

    private static string MigrationUri => "fd:" + MigrationFdName;

    private Task<System.Text.Json.JsonElement> SetIgnoreSharedAsync(CancellationToken cancellationToken) =>
        Qmp.ExecuteAsync(QmpCommands.MigrateSetCapability(IgnoreSharedCapability, true), cancellationToken);

    /// <summary>migrate or migrate-incoming over the fd; if QEMU refuses, it still holds the fd: close it.</summary>
    private async Task MigrateWithFdAsync(QmpCommand command, CancellationToken cancellationToken)
    {
        try
        {
            await Qmp.ExecuteAsync(command, cancellationToken).ConfigureAwait(false);
        }
        catch (StencilException ex) when (ex.Kind != ErrorKind.Unavailable)
        {
            await BestEffortAsync(() => Qmp.CloseFdAsync(MigrationFdName, CancellationToken.None)).ConfigureAwait(false);
            throw;
        }
    }

    private async Task WaitForMigrationAsync(string action, CancellationToken cancellationToken)
    {
        while (true)
        {
            var info = await Qmp.ExecuteAsync(QmpCommands.QueryMigrate(), cancellationToken).ConfigureAwait(false);
            var status = info.ValueKind == JsonValueKind.Object && info.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.String
                ? s.GetString()
                : null;
            switch (status)
            {
                case "completed":
                    return;
                case "failed" or "cancelled":
                    var reason = info.TryGetProperty("error-desc", out var desc) && desc.ValueKind == JsonValueKind.String
                        ? desc.GetString()
                        : "migration " + status;
                    throw StencilException.Internal($"{action} failed: {reason}");
            }
            await Task.Delay(_options.MigrationPollInterval, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Created by us and handed to QEMU as an fd. Owner-only: it holds device state and the RAM that
    /// is not in the shared memory file (ROMs, firmware data).
    /// </summary>
    private static FileStream CreateStateFile(string path)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            return new FileStream(path, options);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw FileError("cannot create state file", path, ex);
        }
    }

    private static SafeFileHandle OpenStateFile(string path)
    {
        try
        {
            return File.OpenHandle(path, FileMode.Open, FileAccess.Read);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw FileError("cannot open state file", path, ex);
        }
    }

    private static StencilException FileError(string what, string path, Exception ex) => ex switch
    {
        FileNotFoundException or DirectoryNotFoundException => new StencilException(ErrorKind.NotFound, $"{what} {path}: it does not exist", ex),
        UnauthorizedAccessException => new StencilException(ErrorKind.PermissionDenied, $"{what} {path}: {ex.Message}", ex),
        _ => StencilException.Internal($"{what} {path}: {ex.Message}", ex),
    };
}
