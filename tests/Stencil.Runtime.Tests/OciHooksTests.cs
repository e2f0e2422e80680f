using System.Text;
using System.Text.Json.Nodes;
using Stencil.Oci;
using Stencil.Runtime.Pod;

namespace Stencil.Runtime.Tests;

/// <summary>The hooks of a spec that run on the host, the state they read, and the holder's command line.</summary>
[Trait("Category", "Unit")]
public sealed class OciHooksTests
{
    private static Oci.Model.Spec Spec(string hooks) => SpecJson.ParseSpec(Encoding.UTF8.GetBytes($$"""
        { "ociVersion": "1.1.0", "process": { "args": ["sh"], "cwd": "/" }, "root": { "path": "rootfs" }, "hooks": {{hooks}} }
        """), "config.json");

    [Fact]
    public void Host_hooks_are_read_in_order_with_args_env_and_timeout()
    {
        var hooks = OciHooks.FromSpec(Spec("""
            { "createRuntime": [ { "path": "/usr/bin/nerdctl", "args": ["nerdctl", "internal", "oci-hook", "createRuntime"], "env": ["A=1"], "timeout": 5 },
                                 { "path": "/bin/true" } ],
              "poststop": [ { "path": "/bin/false" } ], "prestart": [] }
            """), "c1");

        var first = hooks.Hooks["createRuntime"][0];
        Assert.Equal(["nerdctl", "internal", "oci-hook", "createRuntime"], first.Args);
        Assert.Equal(["A=1"], first.Env);
        Assert.Equal(5, first.TimeoutSeconds);
        Assert.Equal(["/usr/bin/nerdctl", "/bin/true"], hooks.Hooks["createRuntime"].Select(h => h.Path));
        Assert.Equal("/bin/false", Assert.Single(hooks.Hooks["poststop"]).Path);
        Assert.False(hooks.IsEmpty);
        Assert.True(OciHooks.FromSpec(Spec("null"), "c1").IsEmpty);
        // The guest's OCI runtime runs these (GuestSpecBuilder.GuestHooks): not the host's business.
        Assert.True(OciHooks.FromSpec(Spec("""{ "createContainer": [ { "path": "/x" } ], "startContainer": [ { "path": "/y" } ] }"""), "c1").IsEmpty);
    }

    [Theory]
    [InlineData("""{ "prestart": [ { "path": "relative" } ] }""", "hooks.prestart[0]: path must be an absolute path")]
    [InlineData("""{ "poststart": [ { "path": "/x", "timeout": 0 } ] }""", "hooks.poststart[0]: timeout must be a positive number of seconds")]
    [InlineData("""{ "poststop": [ { "path": "/x", "args": [1] } ] }""", "hooks.poststop[0]: args must be an array of strings")]
    public void What_cannot_run_is_refused_by_name(string hooks, string message)
    {
        var ex = Assert.Throws<StencilException>(() => OciHooks.FromSpec(Spec(hooks), "c1"));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(message, ex.Message);
    }

    [Fact]
    public void The_state_is_the_runtime_specs()
    {
        var state = OciHooks.StateJson("1.1.0", "c1", "creating", 4242, "/run/bundle", new Dictionary<string, string> { ["a"] = "b" });
        Assert.Equal("""{"ociVersion":"1.1.0","id":"c1","status":"creating","pid":4242,"bundle":"/run/bundle","annotations":{"a":"b"}}""", state);
        Assert.Null(JsonNode.Parse(OciHooks.StateJson(null, "c1", "stopped", 0, "/b", null))!["pid"]);
    }

    [Fact]
    public void The_holder_is_a_shell_waiting_on_its_stdin_in_a_new_or_the_named_network_namespace()
    {
        Assert.Equal(["unshare", "--net", "--", "/bin/sh", "-c", "read -r _", "stencil-pod-holder"], PodHolder.CommandLine(null));
        Assert.Equal(["nsenter", "--net=/var/run/netns/cni-1", "--", "/bin/sh", "-c", "read -r _", "stencil-pod-holder"], PodHolder.CommandLine("/var/run/netns/cni-1"));
    }

    [Fact]
    public void Only_createContainer_and_startContainer_hooks_go_to_the_guest()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("""
            { "createRuntime": [ { "path": "/h" } ], "createContainer": [ { "path": "/c", "args": ["c", "1"] } ], "startContainer": [], "poststop": [ { "path": "/p" } ] }
            """);
        Assert.Equal("""{"createContainer":[{"path":"/c","args":["c","1"]}]}""", GuestSpecBuilder.GuestHooks(doc.RootElement)!.Value.GetRawText());
        using var none = System.Text.Json.JsonDocument.Parse("""{ "createRuntime": [ { "path": "/h" } ] }""");
        Assert.Null(GuestSpecBuilder.GuestHooks(none.RootElement));
    }

    [Fact]
    public async Task A_hook_gets_the_state_on_stdin_and_its_env_and_one_past_its_timeout_is_killed_and_named()
    {
        var dir = Directory.CreateTempSubdirectory("stencil-hooks-").FullName;
        try
        {
            var hooks = OciHooks.FromSpec(Spec($$"""
                { "createRuntime": [ { "path": "/bin/sh", "args": ["sh", "-c", "cat > {{dir}}/state; echo $A > {{dir}}/env"], "env": ["A=from-the-spec"] } ],
                  "prestart": [ { "path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1 } ] }
                """), "c1");
            await hooks.RunAsync("createRuntime", """{"id":"c1"}""", NullLog.Instance, "container c1", warnOnly: false, CancellationToken.None);
            Assert.Equal("""{"id":"c1"}""", File.ReadAllText(Path.Combine(dir, "state")));
            Assert.Equal("from-the-spec", File.ReadAllText(Path.Combine(dir, "env")).Trim());

            var clock = System.Diagnostics.Stopwatch.StartNew();
            var ex = await Assert.ThrowsAsync<StencilException>(() =>
                hooks.RunAsync("prestart", "{}", NullLog.Instance, "container c1", warnOnly: false, CancellationToken.None));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20), $"took {clock.Elapsed}");
            Assert.Equal("container c1: error running prestart hook #0 (/bin/sleep): `/bin/sleep 30` did not finish within 1 s", ex.Message);
            // A poststart or poststop hook that fails is only logged.
            await hooks.RunAsync("prestart", "{}", NullLog.Instance, "container c1", warnOnly: true, CancellationToken.None);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
