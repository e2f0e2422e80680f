using Stencil.TestSupport;

namespace Stencil.EndToEnd.Tests;

/// <summary>`ctr run --log-uri`: file:// and binary:// stdio (nerdctl's default for detached containers is binary://).</summary>
[Collection(StencilCollection.Name)]
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class LogUriTests(StencilContainerd s)
{
    private const string R = StencilContainerd.Runtime;
    private const string I = StencilContainerd.Image;

    [Fact]
    public async Task A_file_log_uri_receives_stdout_and_stderr_appended_in_a_file_made_0600()
    {
        var log = Path.Combine(s.Dir, "logs-file", "e2e-logfile.log"); // the shim makes the folder
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--log-uri", $"file://{log}", I, "e2e-logfile", "sh", "-c", "echo out; echo err >&2");
        Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");

        Assert.Equal(["err", "out"], File.ReadAllLines(log).Order(StringComparer.Ordinal));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(log));
        var again = await s.Ctr("run", "--rm", "--runtime", R, "--log-uri", $"file://{log}", I, "e2e-logfile", "echo", "again");
        Assert.True(again.ExitCode == 0, again.Stderr);
        Assert.Equal("again", File.ReadAllLines(log)[^1]); // appended, not truncated
        Assert.Equal(3, File.ReadAllLines(log).Length);
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task A_binary_log_uri_starts_the_logger_with_the_output_on_fds_3_and_4_and_ready_on_fd_5()
    {
        var folder = Directory.CreateDirectory(Path.Combine(s.Dir, "logs-binary")).FullName;
        var logger = Path.Combine(folder, "logger.sh");
        var output = Path.Combine(folder, "out.log");
        File.Delete(output);
        // A logger as containerd's shims expect one: reads stdout on fd 3 and stderr on fd 4, closes fd 5 when ready.
        File.WriteAllText(logger, """
            #!/bin/sh
            # args: "out" PATH "tag" TAG (the URI's query, in key order)
            echo "id=$CONTAINER_ID ns=$CONTAINER_NAMESPACE args=$*" > "$2"
            exec 5>&-
            sed "s/^/$4 stdout: /" <&3 >> "$2" &
            sed "s/^/$4 stderr: /" <&4 >> "$2"
            wait
            """.Replace("\r", ""));
        File.SetUnixFileMode(logger, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var r = await s.Ctr("run", "--rm", "--runtime", R, "--log-uri", $"binary://{logger}?tag=T1&out={output}", I, "e2e-logbin",
            "sh", "-c", "echo out; echo err >&2");
        Assert.True(r.ExitCode == 0, $"ctr run: {r.Stderr}\n{s.Containerd.ReadLog()}");

        // The shim waits for the logger to exit (it saw EOF on both) before the task is gone.
        var lines = File.ReadAllLines(output);
        Assert.Equal($"id=e2e-logbin ns=default args=out {output} tag T1", lines[0]);
        Assert.Equal(["T1 stderr: err", "T1 stdout: out"], lines[1..].Order(StringComparer.Ordinal));
        await Eventually.NothingLeftAsync(s);
    }

    [Fact]
    public async Task A_logger_that_cannot_run_and_an_unknown_scheme_fail_the_container_with_the_reason()
    {
        var missing = Path.Combine(s.Dir, "no-such-logger");
        var r = await s.Ctr("run", "--rm", "--runtime", R, "--log-uri", $"binary://{missing}", I, "e2e-lognone", "true");
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains($"cannot start the binary:// logger {missing}", r.Stderr);
        await s.Ctr("containers", "rm", "e2e-lognone");

        var unknown = await s.Ctr("run", "--rm", "--runtime", R, "--log-uri", "syslog:///x", I, "e2e-logscheme", "true");
        Assert.NotEqual(0, unknown.ExitCode);
        Assert.Contains("unknown stdio scheme \"syslog\"", unknown.Stderr);
        await s.Ctr("containers", "rm", "e2e-logscheme");
        await Eventually.NothingLeftAsync(s);
    }
}
