using Stencil.Hypervisor.Internal;

namespace Stencil.Hypervisor.Tests;

[Trait("Category", "Unit")]
public sealed class VmLifecycleTests
{
    public static TheoryData<VmState, string, VmState> Allowed => new()
    {
        { VmState.Created, nameof(VmOperation.Start), VmState.Running },
        { VmState.Created, nameof(VmOperation.StartIncoming), VmState.Incoming },
        { VmState.Running, nameof(VmOperation.Pause), VmState.Paused },
        { VmState.Paused, nameof(VmOperation.Resume), VmState.Running },
        { VmState.Paused, nameof(VmOperation.Save), VmState.Saved },
        { VmState.Incoming, nameof(VmOperation.Restore), VmState.Paused },
        { VmState.Running, nameof(VmOperation.Hotplug), VmState.Running },
        { VmState.Paused, nameof(VmOperation.Hotplug), VmState.Paused },
        { VmState.Running, nameof(VmOperation.Unplug), VmState.Running },
        { VmState.Paused, nameof(VmOperation.Unplug), VmState.Paused },
        { VmState.Running, nameof(VmOperation.Query), VmState.Running },
        { VmState.Paused, nameof(VmOperation.Query), VmState.Paused },
        { VmState.Incoming, nameof(VmOperation.Query), VmState.Incoming },
        { VmState.Saved, nameof(VmOperation.Query), VmState.Saved },
        { VmState.Created, nameof(VmOperation.Shutdown), VmState.Stopped },
        { VmState.Incoming, nameof(VmOperation.Shutdown), VmState.Stopped },
        { VmState.Running, nameof(VmOperation.Shutdown), VmState.Stopped },
        { VmState.Paused, nameof(VmOperation.Shutdown), VmState.Stopped },
        { VmState.Saved, nameof(VmOperation.Shutdown), VmState.Stopped },
        { VmState.Incoming, nameof(VmOperation.PlugBeforeLoad), VmState.Incoming },
        { VmState.Paused, nameof(VmOperation.Checkpoint), VmState.Paused },
        { VmState.Incoming, nameof(VmOperation.WriteMemory), VmState.Incoming },
    };

    [Theory]
    [MemberData(nameof(Allowed))]
    public void Allowed_moves(VmState from, string operation, VmState to) =>
        Assert.Equal(to, VmLifecycle.Next(from, Enum.Parse<VmOperation>(operation), "vm1"));

    [Fact]
    public void Every_other_move_is_refused_with_a_plain_message()
    {
        var allowed = Allowed.Select(row => ((VmState)row[0], Enum.Parse<VmOperation>((string)row[1]))).ToHashSet();
        var refused = 0;
        foreach (var state in Enum.GetValues<VmState>())
        {
            foreach (var operation in Enum.GetValues<VmOperation>())
            {
                if (allowed.Contains((state, operation)))
                    continue;
                var ex = Assert.Throws<StencilException>(() => VmLifecycle.Next(state, operation, "vm1"));
                Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
                Assert.Equal($"cannot {VmLifecycle.Verb(operation)} vm vm1 in {state.ToString().ToLowerInvariant()} state", ex.Message);
                refused++;
            }
        }
        Assert.True(refused > 30);
        Assert.Equal("cannot pause vm vm1 in created state",
            Assert.Throws<StencilException>(() => VmLifecycle.Next(VmState.Created, VmOperation.Pause, "vm1")).Message);
        Assert.Equal("cannot resume vm vm1 in saved state",
            Assert.Throws<StencilException>(() => VmLifecycle.Next(VmState.Saved, VmOperation.Resume, "vm1")).Message);
    }
}
