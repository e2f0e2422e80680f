using Stencil.Agent.Containers;

namespace Stencil.Agent.Tests.Unit;

[Trait("Category", "Unit")]
public class OciCommandLineTests
{
    private static readonly OciCommandLine s_cl = new("/usr/bin/crun", "/run/stencil/oci/crun", "/run/stencil/containers/c1/runtime-1.log");
    private const string Global = "/usr/bin/crun --root /run/stencil/oci/crun --log /run/stencil/containers/c1/runtime-1.log --log-format json";

    [Fact]
    public void Create_without_terminal() =>
        Assert.Equal($"{Global} create --bundle /b --pid-file /b/init.pid c1", string.Join(' ', s_cl.Create("c1", "/b", "/b/init.pid", null)));

    [Fact]
    public void Create_with_console_socket() =>
        Assert.Equal($"{Global} create --bundle /b --pid-file /b/init.pid --console-socket /b/console.sock c1",
            string.Join(' ', s_cl.Create("c1", "/b", "/b/init.pid", "/b/console.sock")));

    [Fact]
    public void Exec_is_detached_with_a_process_file() =>
        Assert.Equal($"{Global} exec --detach --pid-file /b/e.pid --process /b/e.json c1",
            string.Join(' ', s_cl.Exec("c1", "/b/e.json", "/b/e.pid", null)));

    [Theory]
    [InlineData(false, "kill c1 9")]
    [InlineData(true, "kill --all c1 9")]
    public void Kill(bool all, string expected) => Assert.Equal($"{Global} {expected}", string.Join(' ', s_cl.Kill("c1", 9, all)));

    [Fact]
    public void Other_commands()
    {
        Assert.Equal($"{Global} start c1", string.Join(' ', s_cl.Start("c1")));
        Assert.Equal($"{Global} run --bundle /run/stencil-warmup/bundle w1", string.Join(' ', s_cl.Run("w1", "/run/stencil-warmup/bundle")));
        Assert.Equal($"{Global} delete --force c1", string.Join(' ', s_cl.Delete("c1", force: true)));
        Assert.Equal($"{Global} delete c1", string.Join(' ', s_cl.Delete("c1", force: false)));
        Assert.Equal($"{Global} pause c1", string.Join(' ', s_cl.Pause("c1")));
        Assert.Equal($"{Global} resume c1", string.Join(' ', s_cl.Resume("c1")));
        Assert.Equal($"{Global} update --resources /b/r.json c1", string.Join(' ', s_cl.Update("c1", "/b/r.json")));
        Assert.Equal($"{Global} state c1", string.Join(' ', s_cl.State("c1")));
    }
}
