namespace Stencil.EndToEnd.Tests;

/// <summary>The guest's own network basics, as a container sees them.</summary>
[Collection(StencilCollection.Name)]
public sealed class GuestNetworkTests(StencilContainerd s)
{
    [Fact]
    public async Task Loopback_is_up_and_a_server_on_localhost_answers()
    {
        var r = await s.Ctr("run", "--rm", "--runtime", StencilContainerd.Runtime, StencilContainerd.Image, "e2e-lo", "sh", "-c",
            "mkdir -p /tmp/www && echo local-ok > /tmp/www/index.html && httpd -p 127.0.0.1:8080 -h /tmp/www && " +
            "for i in 1 2 3 4 5; do printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | nc 127.0.0.1 8080 | grep local-ok && exit 0; sleep 1; done; exit 1");
        Assert.True(r.ExitCode == 0, r.Stdout + r.Stderr);
        Assert.Equal("local-ok", r.Stdout.Trim());
    }
}
