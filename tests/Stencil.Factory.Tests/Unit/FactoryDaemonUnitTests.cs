using System.Net.Sockets;
using Stencil.Factory.Client;
using Stencil.Factory.Daemon;
using Stencil.Protocols.Factory;

namespace Stencil.Factory.Tests.Unit;

/// <summary>The factory daemon's pure parts: metrics text, reply checks on the shim side, peer rules; and a client facing no daemon.</summary>
[Trait("Category", "Unit")]
public sealed class FactoryDaemonUnitTests
{
    [Fact]
    public void Metrics_render_as_prometheus_text()
    {
        var metrics = new FactoryMetrics();
        metrics.HandedOver(TimeSpan.FromMilliseconds(3));
        metrics.HandedOver(TimeSpan.FromMilliseconds(40));
        metrics.NotServed(NotServedReason.PoolEmpty);
        metrics.NotServed(NotServedReason.TemplateMismatch);
        metrics.NotServed(NotServedReason.SettingsMismatch);
        metrics.NotServed(NotServedReason.SettingsMismatch);
        metrics.StaleDiscarded(2);
        var text = FactoryMetrics.Render(metrics.Take(poolSize: 4, ready: 3, templateBuildSeconds: 3.5));
        const string Expected = """
            # HELP stencil_factory_pool_size Paused clones the pool keeps.
            # TYPE stencil_factory_pool_size gauge
            stencil_factory_pool_size 4
            # HELP stencil_factory_pool_ready Paused clones ready now.
            # TYPE stencil_factory_pool_ready gauge
            stencil_factory_pool_ready 3
            # HELP stencil_factory_handovers_total Clones handed over to shims.
            # TYPE stencil_factory_handovers_total counter
            stencil_factory_handovers_total 2
            # HELP stencil_factory_not_served_total Requests answered without a clone (the shim then clones the template itself), by reason.
            # TYPE stencil_factory_not_served_total counter
            stencil_factory_not_served_total{reason="pool_empty"} 1
            stencil_factory_not_served_total{reason="template_mismatch"} 1
            stencil_factory_not_served_total{reason="settings_mismatch"} 2
            stencil_factory_not_served_total{reason="failed"} 0
            # HELP stencil_factory_stale_clones_discarded_total Ready clones discarded because the template changed.
            # TYPE stencil_factory_stale_clones_discarded_total counter
            stencil_factory_stale_clones_discarded_total 2
            # HELP stencil_factory_handover_seconds Time from a shim's request to the clone detached and answered.
            # TYPE stencil_factory_handover_seconds histogram
            stencil_factory_handover_seconds_bucket{le="0.005"} 1
            stencil_factory_handover_seconds_bucket{le="0.01"} 1
            stencil_factory_handover_seconds_bucket{le="0.025"} 1
            stencil_factory_handover_seconds_bucket{le="0.05"} 2
            stencil_factory_handover_seconds_bucket{le="0.1"} 2
            stencil_factory_handover_seconds_bucket{le="0.25"} 2
            stencil_factory_handover_seconds_bucket{le="0.5"} 2
            stencil_factory_handover_seconds_bucket{le="1"} 2
            stencil_factory_handover_seconds_bucket{le="2.5"} 2
            stencil_factory_handover_seconds_bucket{le="+Inf"} 2
            stencil_factory_handover_seconds_sum 0.043
            stencil_factory_handover_seconds_count 2
            # HELP stencil_factory_template_build_seconds How long the current template took to build.
            # TYPE stencil_factory_template_build_seconds gauge
            stencil_factory_template_build_seconds 3.5

            """;
        Assert.Equal(Expected.ReplaceLineEndings("\n"), text);
    }

    private static TakeCloneResponse Good() => new()
    {
        Served = true,
        Name = "pool-1",
        Pid = 4242,
        Directory = "/run/stencil/factory-pool/1a2b3c4d",
        SharedDirectory = "/run/stencil/factory-pool/1a2b3c4d/shared",
        TemplateFingerprint = "abc",
    };

    [Fact]
    public void Differing_process_settings_are_named_one_by_one()
    {
        const string Daemon = "seccomp sandbox: on; capabilities: chown; tcg translation cache: qemu default; mem-merge: off";
        Assert.Equal("tcg translation cache: the daemon's qemu default, pod p's 16 MiB",
            FactoryGrpcService.SettingsDifferences(Daemon, "seccomp sandbox: on; capabilities: chown; tcg translation cache: 16 MiB; mem-merge: off", "pod p"));
        Assert.Equal("seccomp sandbox: the daemon's on, pod p's off; mem-merge: the daemon's off, pod p's on",
            FactoryGrpcService.SettingsDifferences(Daemon, "seccomp sandbox: off; capabilities: chown; tcg translation cache: qemu default; mem-merge: on", "pod p"));
        // Long texts (a real seccomp option list) are compared whole; only what is quoted back is bounded.
        var sandbox = "on," + string.Join(',', Enumerable.Repeat("obsolete=deny", 20));
        Assert.Equal("tcg translation cache: the daemon's qemu default, pod p's 16 MiB", FactoryGrpcService.SettingsDifferences(
            $"seccomp sandbox: {sandbox}; capabilities: chown; tcg translation cache: qemu default; mem-merge: off",
            $"seccomp sandbox: {sandbox}; capabilities: chown; tcg translation cache: 16 MiB; mem-merge: off", "pod p"));
        // A text of another shape (another version's) is quoted whole.
        Assert.Equal($"the daemon's clones run with \"{Daemon}\", pod p asks for \"tb 16\"", FactoryGrpcService.SettingsDifferences(Daemon, "tb 16", "pod p"));
    }

    [Fact]
    public void A_served_reply_is_checked_before_the_shim_uses_it()
    {
        Assert.Null(FactoryDaemonClient.Check(Good(), "abc"));
        Assert.Equal("pid 1", FactoryDaemonClient.Check(Good().WithPid(1), "abc"));
        Assert.Contains("a clone of template abc for a request of xyz", FactoryDaemonClient.Check(Good(), "xyz"), StringComparison.Ordinal);
        var escape = Good();
        escape.Directory = "/run/stencil/../../etc";
        Assert.Contains("not a clean absolute path", FactoryDaemonClient.Check(escape, "abc"), StringComparison.Ordinal);
        var outside = Good();
        outside.SharedDirectory = "/etc";
        Assert.Contains("not inside the clone folder", FactoryDaemonClient.Check(outside, "abc"), StringComparison.Ordinal);
        var relative = Good();
        relative.Directory = "pool/1";
        Assert.Contains("not a clean absolute path", FactoryDaemonClient.Check(relative, "abc"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task No_daemon_or_a_stale_socket_is_an_answer_not_an_error()
    {
        var dir = Directory.CreateTempSubdirectory("stencil-fd-").FullName;
        try
        {
            var absent = await FactoryDaemonClient.TakeCloneAsync(Path.Combine(dir, "none.sock"), "abc", "", "t", TimeSpan.FromSeconds(1));
            Assert.Null(absent.Handed);
            Assert.Contains("no factory daemon", absent.Reason, StringComparison.Ordinal);

            // A socket file nobody listens on (a dead daemon's): bound, not listening, so connect is refused.
            // (Kept open meanwhile: .NET removes the file of a bound unix socket when it is disposed.)
            var stale = Path.Combine(dir, "stale.sock");
            using var bound = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
            bound.Bind(new UnixDomainSocketEndPoint(stale));
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var dead = await FactoryDaemonClient.TakeCloneAsync(stale, "abc", "", "t", TimeSpan.FromSeconds(1));
            Assert.Null(dead.Handed);
            Assert.True(dead.Reason!.Contains("did not answer", StringComparison.Ordinal), dead.Reason);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(8), $"took {clock.Elapsed}"); // a hang, not a slow machine, is what this catches
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Theory]
    [InlineData(0u, 1000u, true)]
    [InlineData(1000u, 1000u, true)]
    [InlineData(1001u, 1000u, false)]
    [InlineData(1001u, 0u, false)]
    public void Only_root_and_the_daemons_own_uid_may_connect(uint peer, uint own, bool allowed) =>
        Assert.Equal(allowed, PeerCredentials.Allowed(peer, own, []));
}

internal static class TakeCloneResponseExtensions
{
    public static TakeCloneResponse WithPid(this TakeCloneResponse reply, int pid)
    {
        var copy = reply.Clone();
        copy.Pid = pid;
        return copy;
    }
}
