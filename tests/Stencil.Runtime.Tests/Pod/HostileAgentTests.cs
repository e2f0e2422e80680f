using Google.Protobuf;
using Stencil.Protocols.Agent;
using Stencil.Runtime.Configuration;
using Stencil.Runtime.Lifecycle;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests.Pod;

/// <summary>
/// The pod runtime over the real agent client, facing a <see cref="HostileAgent"/> (Kata's threat model:
/// the guest may be fully compromised). Whatever the agent answers, the pod ends in a clean state with
/// the reason (its container exited, the pod failed), the runtime keeps serving, and a slow reader of the
/// output slows the guest down instead of filling the shim's memory.
/// </summary>
[Trait("Category", "Unit")]
public sealed class HostileAgentTests : IAsyncLifetime
{
    private static readonly TimeSpan s_bounded = TimeSpan.FromSeconds(10);

    private readonly string _dir = Directory.CreateTempSubdirectory("stencil-hostile-").FullName;
    private readonly FakePodVmProvider _vms = new();
    private HostileAgent _agent = null!;
    private PodRuntime _runtime = null!;

    public async Task InitializeAsync()
    {
        _agent = await HostileAgent.StartAsync(callTimeout: s_bounded);
        _vms.OnStart = vm => vm.RealAgent = _agent.Client;
        _runtime = new PodRuntime(new PodRuntimeOptions("default", "pod1", new StatePaths(Path.Combine(_dir, "state")))
        {
            OutputDrainTimeout = TimeSpan.Zero,
            StartHolder = false,
        }, _vms, new RecordingMounter(), NullLog.Instance);
    }

    public async Task DisposeAsync()
    {
        await _runtime.DisposeAsync().AsTask().WaitAsync(s_bounded);
        await _agent.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }

    private CreateContainerRequest Request(string id, string stdout)
    {
        var bundle = PodTestBundle.Write(_dir, id);
        return new CreateContainerRequest(id, bundle, [], new StdioPaths("", stdout, "", false));
    }

    private async Task StartAsync(string stdout)
    {
        await _runtime.CreateAsync(Request("c1", stdout), CancellationToken.None).WaitAsync(s_bounded);
        await _runtime.StartAsync("c1", null, CancellationToken.None).WaitAsync(s_bounded);
    }

    /// <summary>The pod failed with <paramref name="reason"/>, its container exited 255, and it can still be deleted.</summary>
    private async Task AssertPodFailedAsync(string reason, bool prefixOnly = false)
    {
        var exit = await _runtime.WaitAsync("c1", null, CancellationToken.None).WaitAsync(s_bounded);
        Assert.Equal(255u, exit.ExitCode);
        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Failed);
        var gone = await Assert.ThrowsAsync<StencilException>(() => _runtime.PidsAsync("c1", CancellationToken.None));
        Assert.Equal(ErrorKind.Unavailable, gone.Kind);
        if (prefixOnly)
            Assert.StartsWith($"the VM of pod pod1 is gone: the link to its agent ended: {reason}", gone.Message);
        else
            Assert.Equal($"the VM of pod pod1 is gone: the link to its agent ended: {reason}", gone.Message);
        await _runtime.DeleteAsync("c1", null, CancellationToken.None).WaitAsync(s_bounded);
        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Empty);
        Assert.True(Assert.Single(_vms.Started).Disposed, "the failed pod's VM was not stopped");
    }

    [Fact]
    public async Task A_read_answered_with_more_bytes_than_asked_fails_the_pod_with_the_figures()
    {
        var started = new TaskCompletionSource();
        _agent.OnReadStdout = async (_, _) =>
        {
            await started.Task; // once the container runs (the first read is asked for before its start)
            return new ReadStreamResponse { Data = ByteString.CopyFrom(new byte[2 << 20]) };
        };

        await StartAsync($"file://{_dir}/out.log");
        started.SetResult();

        await AssertPodFailedAsync("protocol violation by the peer: the agent ReadStdout of container c1 answered 2097152 bytes to a read of at most 1048576");
        Assert.Equal(0, new FileInfo(Path.Combine(_dir, "out.log")).Length); // nothing of the bad answer was written
    }

    [Fact]
    public async Task Garbage_on_the_agent_link_fails_the_pod_and_names_the_bytes()
    {
        var started = new TaskCompletionSource();
        _agent.OnReadStdout = async (_, ct) =>
        {
            await started.Task; // once the container runs (the first read is asked for before its start)
            await _agent.SendRawAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            await Task.Delay(Timeout.Infinite, ct);
            return new ReadStreamResponse();
        };

        await StartAsync($"file://{_dir}/out.log");
        started.SetResult();

        await AssertPodFailedAsync("malformed ttRPC frame header 474554202F2048545450: unknown frame type 0x54 with length 1195725856 over the maximum of 4194304");
    }

    [Fact]
    public async Task A_reply_that_is_not_protobuf_fails_the_pod()
    {
        var started = new TaskCompletionSource();
        _agent.OnReadStdout = async (_, ct) =>
        {
            await started.Task;
            // A well-framed response (stream 1 is CreateSandbox's, long answered) whose envelope is not a ttRPC Response.
            await _agent.SendRawAsync([0, 0, 0, 2, 0, 0, 0, 1, 2, 0, 0xFF, 0xFF]);
            await Task.Delay(Timeout.Infinite, ct);
            return new ReadStreamResponse();
        };

        await StartAsync($"file://{_dir}/out.log");
        started.SetResult();

        var exit = await _runtime.WaitAsync("c1", null, CancellationToken.None).WaitAsync(s_bounded);
        Assert.Equal(255u, exit.ExitCode);
        await PodTestBundle.Eventually(() => _runtime.PodState == PodState.Failed);
        var gone = await Assert.ThrowsAsync<StencilException>(() => _runtime.PidsAsync("c1", CancellationToken.None));
        Assert.StartsWith("the VM of pod pod1 is gone: the link to its agent ended: protocol violation by the peer: ttrpc response on stream 1 (2 bytes) cannot be decoded: ",
            gone.Message);
    }

    [Fact]
    public async Task An_agent_that_stops_answering_health_checks_fails_the_pod_after_the_misses()
    {
        await _runtime.DisposeAsync();
        _runtime = new PodRuntime(new PodRuntimeOptions("default", "pod1", new StatePaths(Path.Combine(_dir, "state")))
        {
            OutputDrainTimeout = TimeSpan.Zero,
            StartHolder = false,
            AgentHealth = new AgentHealthCheck { Interval = TimeSpan.FromMilliseconds(100), Timeout = TimeSpan.FromMilliseconds(300), Misses = 3 },
        }, _vms, new RecordingMounter(), NullLog.Instance);
        await StartAsync("");
        // Healthy: checks are answered and the pod stays up.
        await PodTestBundle.Eventually(() => _agent.Checks >= 3);
        Assert.Equal(PodState.Ready, _runtime.PodState);

        // Then it reads every call and answers none (as a wedged or hostile agent would).
        _agent.OnCheck = ct => Task.Delay(Timeout.Infinite, ct);

        // The last check's words: the client's timer or the stand-in server's deadline, whichever came first.
        await AssertPodFailedAsync("the agent did not answer 3 health checks in a row (300 ms each; last: ", prefixOnly: true);
    }

    [Fact]
    public async Task An_agent_that_never_answers_a_call_fails_it_with_DeadlineExceeded_and_the_shim_goes_on()
    {
        await _agent.DisposeAsync();
        _agent = await HostileAgent.StartAsync(callTimeout: TimeSpan.FromSeconds(2));
        _agent.OnStartContainer = ct => Task.Delay(Timeout.Infinite, ct);

        await _runtime.CreateAsync(Request("c1", ""), CancellationToken.None).WaitAsync(s_bounded);
        var ex = await Assert.ThrowsAsync<StencilException>(() => _runtime.StartAsync("c1", null, CancellationToken.None).WaitAsync(s_bounded));

        Assert.Equal(ErrorKind.DeadlineExceeded, ex.Kind);
        // The client's own timer and the stand-in server's deadline (it honours timeout_nano) end the call at the
        // same moment; either words it, both name the call.
        Assert.True(ex.Message is "ttrpc call stencil.agent.v1.Agent.StartContainer: no response within the timeout of 00:00:02"
            or "stencil.agent.v1.Agent.StartContainer: deadline exceeded", ex.Message);
        Assert.Equal(PodState.Ready, _runtime.PodState); // slow is not hostile: the link is still believed
    }

    [Fact]
    public async Task A_stdout_that_never_ends_is_pulled_one_chunk_at_a_time_and_waits_for_a_slow_reader()
    {
        var chunk = new ReadStreamResponse { Data = ByteString.CopyFrom(new byte[1 << 20]) };
        _agent.OnReadStdout = (request, _) => Task.FromResult(chunk); // an endless stream, 1 MiB per read
        var fifo = Path.Combine(_dir, "stdout.fifo");
        Assert.Equal(0, Mkfifo(fifo, 0x180));
        var reader = Task.Run(() => new FileStream(fifo, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0));

        await StartAsync(fifo);
        await using var output = await reader.WaitAsync(s_bounded);

        // Nobody reads the FIFO: the forwarder blocks writing the first chunk, and asks the agent for no more.
        await Task.Delay(TimeSpan.FromSeconds(1));
        var stalled = _agent.Reads;
        Assert.InRange(stalled, 1, 2);
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(stalled, _agent.Reads);

        // Reading lets it go on, one read in flight at a time.
        var buffer = new byte[64 << 10];
        long read = 0;
        while (read < 8L << 20)
            read += await output.ReadAsync(buffer).AsTask().WaitAsync(s_bounded);
        Assert.True(_agent.Reads >= 8, $"{_agent.Reads} reads after 8 MiB were taken");
        Assert.Equal(1, _agent.MaxReadsInFlight);
        Assert.Equal(PodState.Ready, _runtime.PodState);
    }

    [Fact]
    public async Task An_agent_flooding_OOM_reports_is_asked_for_them_at_a_paced_rate()
    {
        _agent.OnOomEvent = _ => Task.FromResult(new OOMEvent { ContainerId = "not-a-container-" + new string('x', 10_000) });

        await _runtime.CreateAsync(Request("c1", ""), CancellationToken.None).WaitAsync(s_bounded);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(2));

        // A burst of 20, then 10 a second: unpaced, the loop would have made thousands of calls.
        var calls = _agent.OomEventCalls;
        Assert.InRange(calls, 20, 21 + (int)(clock.Elapsed.TotalSeconds * 10) + 1);
        Assert.Equal(PodState.Ready, _runtime.PodState);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, uint mode);
}
