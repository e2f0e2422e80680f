using System.Diagnostics;
using Stencil.Agent.Containers;
using Stencil.TestSupport;

namespace Stencil.Agent.Tests.Unit;

/// <summary>crun's `start` done by the agent itself: one byte into the container's exec FIFO (real FIFOs in a scratch folder).</summary>
[Trait("Category", "Unit")]
public sealed class OciRuntimeStartTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("stencil-oci-start-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Fifo(string id)
    {
        Directory.CreateDirectory(Path.Combine(_root, id));
        return Path.Combine(_root, id, "exec.fifo");
    }

    [Fact]
    public async Task With_the_init_waiting_on_the_fifo_one_byte_is_written_and_the_fifo_removed()
    {
        var path = Fifo("c1");
        using var init = LogFifo.Create(path); // stands in for the container's init, reading

        Assert.True(new OciRuntime("crun", "/usr/bin/crun", _root).TryStartDirectly("c1"));

        Assert.False(File.Exists(path));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(5);
        while (init.Text.Length == 0 && DateTime.UtcNow < deadline)
            await Task.Delay(10);
        Assert.Equal("\0", init.Text);
    }

    [Fact]
    public void Without_a_reader_a_missing_fifo_or_with_runc_the_runtimes_own_start_runs()
    {
        var path = Fifo("dead");
        using (var mkfifo = Process.Start("mkfifo", path))
            mkfifo.WaitForExit();
        var crun = new OciRuntime("crun", "/usr/bin/crun", _root);

        Assert.False(crun.TryStartDirectly("dead")); // the init is gone: ENXIO, not a hang
        Assert.True(File.Exists(path));               // left for crun, which reports the error
        Assert.False(crun.TryStartDirectly("missing"));
        Assert.False(new OciRuntime("runc", "/usr/bin/runc", _root).TryStartDirectly("dead"));
    }
}
