using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

/// <summary>containerd's stdio values as the shim reads them (plain FIFO paths and fifo://, file://, binary:// URIs).</summary>
[Trait("Category", "Unit")]
public sealed class StdioTargetTests
{
    [Theory]
    [InlineData("", StdioTargetKind.None, "")]
    [InlineData("/run/containerd/fifo/1/c-stdout", StdioTargetKind.Fifo, "/run/containerd/fifo/1/c-stdout")]
    [InlineData("fifo:///run/x/stdout", StdioTargetKind.Fifo, "/run/x/stdout")]
    [InlineData("file:///var/log/c.log", StdioTargetKind.File, "/var/log/c.log")]
    [InlineData("file:///var/log/with%20space.log", StdioTargetKind.File, "/var/log/with space.log")]
    [InlineData("binary:///usr/bin/logger", StdioTargetKind.Binary, "/usr/bin/logger")]
    public void Kinds_and_paths(string value, StdioTargetKind kind, string path)
    {
        var t = StdioTarget.Parse(value, "stdout");
        Assert.Equal((kind, path), (t.Kind, t.Path));
    }

    [Fact]
    public void Binary_arguments_are_each_key_then_its_value_in_key_order()
    {
        var t = StdioTarget.Parse("binary:///opt/nerdctl?_NERDCTL_INTERNAL_LOGGING=%2Fvar%2Flib%2Fnerdctl&debug&b=2", "stdout");
        Assert.Equal(["_NERDCTL_INTERNAL_LOGGING", "/var/lib/nerdctl", "b", "2", "debug"], t.Args);
    }

    [Theory]
    [InlineData("syslog:///x", "stdout \"syslog:///x\": unknown stdio scheme \"syslog\" (fifo, file and binary are supported)")]
    [InlineData("relative/path", "stdout \"relative/path\": neither an absolute FIFO path nor a URI")]
    [InlineData("file://host/x.log", "stdout \"file://host/x.log\": not a file:///PATH URI (no host part)")]
    [InlineData("file:///var/log/../x.log", "stdout \"file:///var/log/../x.log\": the path \"/var/log/../x.log\" is not a clean absolute path")]
    [InlineData("file:///x.log?a=b", "stdout \"file:///x.log?a=b\": a file URI takes no query")]
    public void What_the_shim_cannot_serve_is_refused_by_name(string value, string message)
    {
        var ex = Assert.Throws<StencilException>(() => StdioTarget.Parse(value, "stdout"));
        Assert.Equal((ErrorKind.InvalidArgument, message), (ex.Kind, ex.Message));
    }
}
