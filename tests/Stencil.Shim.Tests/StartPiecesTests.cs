using System.Text;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Stencil.Shim.Start;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class StartPiecesTests
{
    [Fact]
    public void Runtime_options_from_a_byte_vector()
    {
        // Any{ type_url = "runtimeoptions.v1.Options", value = Options{ config_path = "/etc/stencil/c.toml" } }
        byte[] stdin = [0x0a, 0x19, .. "runtimeoptions.v1.Options"u8, 0x12, 0x15, 0x12, 0x13, .. "/etc/stencil/c.toml"u8];

        Assert.Equal("/etc/stencil/c.toml", RuntimeOptions.ConfigPath(stdin));
    }

    [Fact]
    public void Runtime_options_as_cri_marshals_them()
    {
        var options = new Protocols.RuntimeOptions.Options { TypeUrl = "io.containerd.stencil.v2.options", ConfigPath = "/opt/stencil.toml" };
        var any = new Any { TypeUrl = "runtimeoptions.v1.Options", Value = options.ToByteString() };

        Assert.Equal("/opt/stencil.toml", RuntimeOptions.ConfigPath(any.ToByteArray()));
    }

    [Fact]
    public void No_options_or_options_of_another_runtime_give_no_config_path()
    {
        var runc = new Any { TypeUrl = "containerd.runc.v1.Options", Value = ByteString.CopyFromUtf8("\u0012\u0003abc") };
        var emptyPath = new Any { TypeUrl = "runtimeoptions.v1.Options", Value = ByteString.Empty };

        Assert.Null(RuntimeOptions.ConfigPath([]));
        Assert.Null(RuntimeOptions.ConfigPath(runc.ToByteArray()));
        Assert.Null(RuntimeOptions.ConfigPath(emptyPath.ToByteArray()));
    }

    [Fact]
    public void Garbage_on_stdin_is_an_invalid_argument()
    {
        var ex = Assert.Throws<StencilException>(() => RuntimeOptions.ConfigPath([0x0a, 0x40, 0x41]));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.StartsWith("runtime options on stdin (3 bytes) are not a marshalled runtimeoptions.v1.Options Any", ex.Message);
    }

    [Fact]
    public void Every_container_of_a_pod_gets_the_same_socket_and_other_pods_another()
    {
        var a = ShimSocket.PathFor("/run/containerd/s", "/run/containerd/containerd.sock", "k8s.io", "pod1");

        Assert.Equal(a, ShimSocket.PathFor("/run/containerd/s", "/run/containerd/containerd.sock", "k8s.io", "pod1"));
        Assert.NotEqual(a, ShimSocket.PathFor("/run/containerd/s", "/run/containerd/containerd.sock", "k8s.io", "pod2"));
        Assert.NotEqual(a, ShimSocket.PathFor("/run/containerd/s", "/run/containerd/containerd.sock", "default", "pod1"));
        Assert.NotEqual(a, ShimSocket.PathFor("/run/containerd/s", "/tmp/other/containerd.sock", "k8s.io", "pod1"));
        Assert.Matches("^/run/containerd/s/[0-9a-f]{64}$", a);
        Assert.True(Encoding.UTF8.GetByteCount(ShimSocket.PathFor(new string('d', 42), "a", "n", "p")) < 108);
    }

    [Fact]
    public void A_socket_is_bound_once_and_a_stale_file_is_detected()
    {
        using var dir = new TempDir();
        var path = dir.Combine("s", "x.sock");

        using (var first = ShimSocket.TryListen(path))
        {
            Assert.NotNull(first);
            Assert.Null(ShimSocket.TryListen(path));
            Assert.True(ShimSocket.CanConnect(path));
        }

        Assert.True(File.Exists(path)); // closing a listener leaves its file: a stale socket
        Assert.False(ShimSocket.CanConnect(path));
        ShimSocket.Remove(path);
        Assert.False(File.Exists(path));
        Assert.False(ShimSocket.CanConnect(path));
    }
}
