using Stencil.Agent.Pod;

namespace Stencil.Agent.Tests.Unit;

/// <summary>What the holder's middle process tells the agent, and what it is asked to do.</summary>
[Trait("Category", "Unit")]
public class NamespaceHolderReportTests
{
    [Fact]
    public void The_command_carries_the_hostname_and_the_ipc_sysctls()
    {
        Assert.Equal(["stencil-agent", "--hold-namespaces", "web", "kernel.sem=250 32000 100 128"],
            NamespaceHolderProcess.HoldCommand("web", [new("kernel.sem", "250 32000 100 128")]));
        // Any other command line is the agent's own start.
        Assert.Null(NamespaceHolderProcess.TryRun([]));
        Assert.Null(NamespaceHolderProcess.TryRun(["--listen", "/tmp/agent.sock"]));
    }

    [Fact]
    public void A_report_gives_the_pid_or_the_error_with_its_kind()
    {
        Assert.Equal(731, NamespaceHolderProcess.ParseReport(0, "ok 731\n"));

        var refused = Assert.Throws<StencilException>(() => NamespaceHolderProcess.ParseReport(1,
            "error InvalidArgument sysctl kernel.shmmax = \"x\" cannot be set in the pod's IPC namespace: Invalid argument\n"));
        Assert.Equal((ErrorKind.InvalidArgument, "the pod's namespace holder failed: sysctl kernel.shmmax = \"x\" cannot be set in the pod's IPC namespace: Invalid argument"),
            (refused.Kind, refused.Message));

        var crashed = Assert.Throws<StencilException>(() => NamespaceHolderProcess.ParseReport(134, ""));
        Assert.Equal((ErrorKind.Internal, "the pod's namespace holder failed: exit code 134, output \"\""), (crashed.Kind, crashed.Message));
        Assert.Throws<StencilException>(() => NamespaceHolderProcess.ParseReport(0, "ok -1\n"));
    }

    [Fact]
    public void A_prepared_holder_gets_the_hostname_and_sysctls_as_lines_and_reports_ready_first()
    {
        var bytes = NamespaceHolderProcess.PreparedConfiguration("web-0", [new Sysctl("kernel.shmmax", "123"), new Sysctl("kernel.sem", "250 32000 32 128")]);

        Assert.Equal("web-0\nkernel.shmmax=123\nkernel.sem=250 32000 32 128\n", System.Text.Encoding.UTF8.GetString(bytes));
        Assert.Equal(["stencil-agent", "--hold-namespaces-prepared"], NamespaceHolderProcess.PreparedCommand());
        Assert.Equal(17, NamespaceHolderProcess.ParseReady("ready 17\n"));
        Assert.Null(NamespaceHolderProcess.ParseReady("error Internal unshare failed"));
        Assert.Null(NamespaceHolderProcess.ParseReady("ready -1"));
        Assert.Equal(ErrorKind.InvalidArgument,
            Assert.Throws<StencilException>(() => NamespaceHolderProcess.PreparedConfiguration("a\nb", [])).Kind);
    }

    [Fact]
    public void The_prepared_configuration_reads_back_also_with_an_empty_hostname()
    {
        static string Text(string hostname, params Sysctl[] sysctls) =>
            System.Text.Encoding.UTF8.GetString(NamespaceHolderProcess.PreparedConfiguration(hostname, sysctls));

        var full = NamespaceHolderProcess.ParsePreparedConfiguration(Text("web-0", new Sysctl("kernel.shmmax", "123")))!.Value;
        Assert.Equal("web-0", full.Hostname);
        Assert.Equal(["kernel.shmmax=123"], full.Sysctls);
        // No hostname: the guest's is kept, and the first sysctl is not taken for one.
        var noHostname = NamespaceHolderProcess.ParsePreparedConfiguration(Text("", new Sysctl("kernel.shmmax", "123")))!.Value;
        Assert.Equal("", noHostname.Hostname);
        Assert.Equal(["kernel.shmmax=123"], noHostname.Sysctls);
        var bare = NamespaceHolderProcess.ParsePreparedConfiguration(Text(""))!.Value;
        Assert.Equal(("", 0), (bare.Hostname, bare.Sysctls.Count));
        Assert.Null(NamespaceHolderProcess.ParsePreparedConfiguration("")); // stdin closed with nothing: given up
    }
}
