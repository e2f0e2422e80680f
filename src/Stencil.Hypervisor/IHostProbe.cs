namespace Stencil.Hypervisor;

/// <summary>The seam in front of the host checks, so code that decides from them is testable without the host.</summary>
public interface IHostProbe
{
    Task<HostCapabilities> ProbeAsync(CancellationToken cancellationToken = default);
}
