using System.Diagnostics;
using Stencil.Hypervisor.Tests.Support;
using Xunit.Abstractions;

namespace Stencil.Hypervisor.Tests;

/// <summary>Real QEMU (TCG, no guest): start, QMP, pause/resume, early exit, death, illegal moves.</summary>
[Collection(QemuCollection.Name)]
public sealed class QemuStartTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Cold_boot_runs_answers_qmp_and_pauses_and_resumes()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var stopwatch = Stopwatch.StartNew();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("cold"));
        output.WriteLine($"QEMU start to QMP ready (cold boot, TCG): {stopwatch.ElapsedMilliseconds} ms");

        Assert.Equal(VmState.Running, vm.State);
        Assert.Equal("running", await vm.QueryStatusAsync());
        Assert.StartsWith("7.", vm.QemuVersion);
        Assert.True(File.Exists(vm.Instance.Paths.AgentSocket), "agent socket should be listening");

        var events = new System.Collections.Concurrent.ConcurrentQueue<string>();
        vm.EventReceived += e => events.Enqueue(e.Name);

        await vm.PauseAsync();
        Assert.Equal(VmState.Paused, vm.State);
        Assert.Equal("paused", await vm.QueryStatusAsync());

        await vm.ResumeAsync();
        Assert.Equal(VmState.Running, vm.State);
        Assert.Equal("running", await vm.QueryStatusAsync());
        for (var i = 0; i < 100 && events.Count < 2; i++)
            await Task.Delay(10);
        Assert.Equal(["STOP", "RESUME"], events);

        await vm.ShutdownAsync();
        Assert.Equal(VmState.Stopped, vm.State);
        await vm.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(File.Exists(vm.Instance.Paths.QmpSocket), "QMP socket should be removed");
        Assert.False(File.Exists(vm.Instance.Paths.AgentSocket), "agent socket should be removed");
    }

    [Fact]
    public async Task Illegal_moves_fail_with_a_plain_message()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = scope.Create(TestDescriptions.Small(), scope.ColdBoot("moves"));

        var beforeStart = await Assert.ThrowsAsync<StencilException>(() => vm.PauseAsync());
        Assert.Equal(ErrorKind.FailedPrecondition, beforeStart.Kind);
        Assert.Equal("cannot pause vm moves in created state", beforeStart.Message);

        await vm.StartAsync();
        scope.Remember(vm);
        var resume = await Assert.ThrowsAsync<StencilException>(() => vm.ResumeAsync());
        Assert.Equal("cannot resume vm moves in running state", resume.Message);
        var restore = await Assert.ThrowsAsync<StencilException>(() => vm.RestoreAsync(scope.PathOf("state")));
        Assert.Equal("cannot restore vm moves in running state", restore.Message);
        var save = await Assert.ThrowsAsync<StencilException>(() => vm.SaveAsync(scope.PathOf("state")));
        Assert.Equal("cannot save vm moves in running state", save.Message);
        Assert.Equal(VmState.Running, vm.State);

        await vm.KillAsync();
        var afterStop = await Assert.ThrowsAsync<StencilException>(() => vm.PauseAsync());
        Assert.Equal(ErrorKind.FailedPrecondition, afterStop.Kind);
        Assert.Equal("cannot pause vm moves in stopped state", afterStop.Message);
        await vm.KillAsync(); // allowed in every state
    }

    [Fact]
    public async Task A_bad_option_fails_the_start_with_qemus_own_words()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = scope.Create(TestDescriptions.Small() with { CpuModel = "no-such-cpu" }, scope.ColdBoot("bad"));

        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.StartAsync());
        output.WriteLine(ex.Message);
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.StartsWith("starting vm bad failed: qemu exited with code 1: ", ex.Message);
        Assert.Contains("no-such-cpu", ex.Message);
        Assert.Equal(VmState.Stopped, vm.State);
        scope.Remember(vm);
    }

    [Fact]
    public async Task A_missing_binary_is_not_found()
    {
        await using var scope = new QemuScope(new QemuVmOptions { QemuBinary = "/nonexistent/qemu-system-x86_64" });
        var vm = scope.Create(TestDescriptions.Small(), scope.ColdBoot("nobin"));
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.StartAsync());
        Assert.Equal(ErrorKind.NotFound, ex.Kind);
        Assert.Contains("/nonexistent/qemu-system-x86_64", ex.Message);
        Assert.Equal(VmState.Created, vm.State);
    }

    [Fact]
    public async Task Qemu_dying_under_a_running_vm_is_reported_with_its_exit_code()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("dies"));

        var sw = Stopwatch.StartNew();
        Process.GetProcessById(vm.ProcessId!.Value).Kill();
        output.WriteLine($"kill sent {sw.ElapsedMilliseconds} ms");
        await vm.Exited.WaitAsync(TimeSpan.FromSeconds(10));
        output.WriteLine($"exit observed {sw.ElapsedMilliseconds} ms");

        Assert.Equal(VmState.Stopped, vm.State);
        var ex = await Assert.ThrowsAsync<StencilException>(() => vm.PauseAsync());
        Assert.Equal(ErrorKind.Unavailable, ex.Kind);
        Assert.StartsWith("cannot pause vm dies: qemu exited with code 137", ex.Message);
        Assert.False(File.Exists(vm.Instance.Paths.QmpSocket), "a dead QEMU's sockets are removed");
        Assert.False(File.Exists(vm.Instance.Paths.AgentSocket), "a dead QEMU's sockets are removed");
    }

    [Fact]
    public async Task The_pid_file_names_the_qemu_process()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("pid"));
        var pid = int.Parse((await File.ReadAllTextAsync(vm.Instance.Paths.PidFile!)).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(vm.ProcessId, pid);
    }

    [Fact]
    public async Task A_hung_qemu_times_out_then_recovers_when_it_answers_again()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope(new QemuVmOptions { CommandTimeout = TimeSpan.FromMilliseconds(300) });
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("hung"));
        var pid = vm.ProcessId!.Value;

        Signal(pid, "STOP");
        try
        {
            var ex = await Assert.ThrowsAsync<StencilException>(() => vm.PauseAsync());
            Assert.Equal(ErrorKind.DeadlineExceeded, ex.Kind);
            Assert.Equal("pausing vm hung did not finish within 0.3 s", ex.Message);
            Assert.Equal(VmState.Running, vm.State);
        }
        finally
        {
            Signal(pid, "CONT");
        }
        // The late reply to "stop" frees the QMP slot; QEMU's STOP event brings our state along.
        Assert.Equal("paused", await vm.QueryStatusAsync());
        for (var i = 0; i < 100 && vm.State != VmState.Paused; i++)
            await Task.Delay(10);
        Assert.Equal(VmState.Paused, vm.State);
        await vm.ResumeAsync();
    }

    [Fact]
    public async Task Kill_does_not_wait_behind_a_hung_operation()
    {
        QemuPrerequisite.Require();
        await using var scope = new QemuScope();
        var vm = await scope.StartAsync(TestDescriptions.Small(), scope.ColdBoot("hung"));
        Signal(vm.ProcessId!.Value, "STOP");

        var pause = vm.PauseAsync();
        await Task.Delay(100);
        Assert.False(pause.IsCompleted);
        await vm.KillAsync().WaitAsync(TimeSpan.FromSeconds(10));

        var ex = await Assert.ThrowsAsync<StencilException>(() => pause.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Equal("pausing vm hung failed: vm hung was stopped", ex.Message);
        Assert.Equal(VmState.Stopped, vm.State);
    }

    private static void Signal(int pid, string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, pid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
        Assert.Equal(0, kill.ExitCode);
    }
}
