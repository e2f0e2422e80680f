using Stencil.Agent.Pod;

namespace Stencil.Agent.Tests.Unit.Fakes;

/// <summary>The namespace holder and /proc/sys as the sandbox sees them: calls recorded, nothing started or written.</summary>
internal sealed class FakePodSyscalls : IPodSyscalls
{
    internal const int HolderPid = 4242;

    internal List<string> Calls { get; } = [];

    /// <summary>When set, StartHolderAsync fails with it.</summary>
    internal StencilException? HolderFailure { get; set; }

    public Task PrepareHolderAsync()
    {
        Calls.Add("prepare holder");
        return Task.CompletedTask;
    }

    public Task<int> StartHolderAsync(string hostname, IReadOnlyList<Sysctl> ipcSysctls)
    {
        Calls.Add($"start holder \"{hostname}\" {string.Join(' ', ipcSysctls.Select(s => $"{s.Key}={s.Value}"))}".TrimEnd());
        if (HolderFailure is { } failure)
            throw failure;
        return Task.FromResult(HolderPid);
    }

    public Task StopHolderAsync(int pid)
    {
        Calls.Add($"stop holder {pid}");
        return Task.CompletedTask;
    }

    public Task WriteSysctlAsync(string path, string value, CancellationToken cancellationToken)
    {
        Calls.Add($"write {path} {value}");
        return Task.CompletedTask;
    }
}
