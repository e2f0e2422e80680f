using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public sealed class BlockDeviceLocatorTests : IDisposable
{
    private readonly string _sys = Directory.CreateTempSubdirectory("stencil-test-agent-sysfs-").FullName;

    public BlockDeviceLocatorTests()
    {
        // A root port at 00:03.0 with the disk 01:00.0 behind it, and a disk on the root bus at 00:05.0.
        var devices = Path.Combine(_sys, "devices", "pci0000:00");
        Directory.CreateDirectory(Path.Combine(devices, "0000:00:03.0", "0000:01:00.0", "virtio3", "block", "vdb"));
        Directory.CreateDirectory(Path.Combine(devices, "0000:00:05.0", "virtio4", "block", "vda"));
        var bus = Path.Combine(_sys, "bus", "pci", "devices");
        Directory.CreateDirectory(bus);
        File.CreateSymbolicLink(Path.Combine(bus, "0000:00:03.0"), Path.Combine(devices, "0000:00:03.0"));
        File.CreateSymbolicLink(Path.Combine(bus, "0000:01:00.0"), Path.Combine(devices, "0000:00:03.0", "0000:01:00.0"));
        File.CreateSymbolicLink(Path.Combine(bus, "0000:00:05.0"), Path.Combine(devices, "0000:00:05.0"));
        Directory.CreateDirectory(Path.Combine(_sys, "block", "vda"));
        Directory.CreateDirectory(Path.Combine(_sys, "block", "vdb"));
        File.WriteAllText(Path.Combine(_sys, "block", "vdb", "serial"), "vol-42\n");
        File.WriteAllText(Path.Combine(_sys, "block", "vda", "serial"), "\n");
    }

    public void Dispose() => Directory.Delete(_sys, recursive: true);

    [Theory]
    [InlineData("0000:01:00.0", "/dev/vdb")]
    [InlineData("0000:00:05.0", "/dev/vda")]
    [InlineData("03/00", "/dev/vdb")]
    [InlineData("05", "/dev/vda")]
    public void Finds_by_pci(string address, string expected) => Assert.Equal(expected, new BlockDeviceLocator(_sys).FindByPci(address));

    [Fact]
    public void Finds_by_serial() => Assert.Equal("/dev/vdb", new BlockDeviceLocator(_sys).FindBySerial("vol-42"));

    [Fact]
    public async Task Missing_device_times_out_as_not_found()
    {
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            new BlockDeviceLocator(_sys).WaitAsync(null, "nope", TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Contains("serial \"nope\"", ex.Message);
    }

    [Fact]
    public async Task Malformed_address_is_invalid()
    {
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            new BlockDeviceLocator(_sys).WaitAsync("../../etc", null, TimeSpan.FromMilliseconds(50), CancellationToken.None));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
    }
}
