using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class ContainerStateMachineTests
{
    [Fact]
    public void Legal_moves()
    {
        Assert.Equal(ContainerState.Running, ContainerStateMachine.Start("c", ContainerState.Created));
        Assert.Equal(ContainerState.Paused, ContainerStateMachine.Pause("c", ContainerState.Running));
        Assert.Equal(ContainerState.Running, ContainerStateMachine.Resume("c", ContainerState.Paused));
        foreach (var s in Enum.GetValues<ContainerState>())
            Assert.Equal(ContainerState.Stopped, ContainerStateMachine.Exited(s));
    }

    [Theory]
    [InlineData("Running")]
    [InlineData("Paused")]
    [InlineData("Stopped")]
    public void Start_only_from_created(string state)
    {
        var s = Enum.Parse<ContainerState>(state);
        var ex = Assert.Throws<StencilException>(() => ContainerStateMachine.Start("c1", s));
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Equal($"cannot start container \"c1\" in {s.ToString().ToLowerInvariant()} state", ex.Message);
    }

    [Theory]
    [InlineData("Created")]
    [InlineData("Paused")]
    [InlineData("Stopped")]
    public void Pause_only_when_running(string state) =>
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StencilException>(() => ContainerStateMachine.Pause("c", Enum.Parse<ContainerState>(state))).Kind);

    [Theory]
    [InlineData("Created")]
    [InlineData("Running")]
    [InlineData("Stopped")]
    public void Resume_only_when_paused(string state) =>
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StencilException>(() => ContainerStateMachine.Resume("c", Enum.Parse<ContainerState>(state))).Kind);

    [Theory]
    [InlineData("Created")]
    [InlineData("Paused")]
    [InlineData("Stopped")]
    public void Exec_only_when_running(string state) =>
        Assert.Equal(ErrorKind.FailedPrecondition, Assert.Throws<StencilException>(() => ContainerStateMachine.CheckExec("c", Enum.Parse<ContainerState>(state))).Kind);

    [Fact]
    public void Remove_needs_stop_or_force()
    {
        ContainerStateMachine.CheckRemove("c", ContainerState.Created, force: false);
        ContainerStateMachine.CheckRemove("c", ContainerState.Stopped, force: false);
        ContainerStateMachine.CheckRemove("c", ContainerState.Running, force: true);
        ContainerStateMachine.CheckRemove("c", ContainerState.Paused, force: true);
        var ex = Assert.Throws<StencilException>(() => ContainerStateMachine.CheckRemove("c1", ContainerState.Running, force: false));
        Assert.Contains("cannot remove container \"c1\" in running state", ex.Message);
        Assert.Throws<StencilException>(() => ContainerStateMachine.CheckRemove("c1", ContainerState.Paused, force: false));
    }

    [Fact]
    public void Update_not_after_stop()
    {
        ContainerStateMachine.CheckUpdate("c", ContainerState.Running);
        Assert.Throws<StencilException>(() => ContainerStateMachine.CheckUpdate("c", ContainerState.Stopped));
    }
}
