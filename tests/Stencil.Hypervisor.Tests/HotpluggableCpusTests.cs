using System.Text.Json;
using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

[Trait("Category", "Unit")]
public sealed class HotpluggableCpusTests
{
    [Fact]
    public void Picks_the_lowest_empty_socket()
    {
        // As QEMU 7.2 lists them for -smp 1,maxcpus=4: highest first, the boot CPU with a qom-path.
        var slots = JsonDocument.Parse("""
            [
              {"props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 3}, "vcpus-count": 1, "type": "qemu64-x86_64-cpu"},
              {"props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 2}, "vcpus-count": 1, "type": "qemu64-x86_64-cpu"},
              {"props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 1}, "vcpus-count": 1, "type": "qemu64-x86_64-cpu"},
              {"props": {"core-id": 0, "thread-id": 0, "node-id": 0, "socket-id": 0}, "vcpus-count": 1, "qom-path": "/machine/unattached/device[0]", "type": "qemu64-x86_64-cpu"}
            ]
            """).RootElement;
        var slot = HotpluggableCpus.LowestFree(slots);
        Assert.NotNull(slot);
        Assert.Equal("qemu64-x86_64-cpu", slot.Type);
        Assert.Equal(1, slot.Properties.GetProperty("socket-id").GetInt32());
    }

    [Fact]
    public void Null_when_all_are_plugged()
    {
        var slots = JsonDocument.Parse("""[{"props": {"socket-id": 0}, "vcpus-count": 1, "qom-path": "/x", "type": "t"}]""").RootElement;
        Assert.Null(HotpluggableCpus.LowestFree(slots));
    }
}
