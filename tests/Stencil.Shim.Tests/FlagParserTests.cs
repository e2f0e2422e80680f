using Stencil.Shim.Flags;

namespace Stencil.Shim.Tests;

[Trait("Category", "Unit")]
public sealed class FlagParserTests
{
    [Fact]
    public void Parses_start_as_containerd_1_6_passes_it()
    {
        var flags = FlagParser.Parse(["-namespace", "k8s.io", "-address", "/run/containerd/containerd.sock",
            "-publish-binary", "/usr/bin/containerd", "-id", "abc123", "-debug", "start"]);

        Assert.Equal(ShimAction.Start, flags.Action);
        Assert.Equal("k8s.io", flags.Namespace);
        Assert.Equal("/run/containerd/containerd.sock", flags.Address);
        Assert.Equal("/usr/bin/containerd", flags.PublishBinary);
        Assert.Equal("abc123", flags.Id);
        Assert.True(flags.Debug);
        Assert.Equal("", flags.Bundle);
    }

    [Fact]
    public void Parses_delete_with_bundle()
    {
        var flags = FlagParser.Parse(["-namespace", "default", "-address", "/c.sock", "-publish-binary", "/usr/bin/containerd",
            "-id", "c1", "-bundle", "/run/containerd/io.containerd.runtime.v2.task/default/c1", "delete"]);

        Assert.Equal(ShimAction.Delete, flags.Action);
        Assert.Equal("/run/containerd/io.containerd.runtime.v2.task/default/c1", flags.Bundle);
        Assert.False(flags.Debug);
    }

    [Fact]
    public void Accepts_double_dashes_and_equals_signs()
    {
        var flags = FlagParser.Parse(["--namespace=ns", "-id=x", "--address", "/a", "--debug=true", "start"]);

        Assert.Equal(("ns", "x", "/a", true), (flags.Namespace, flags.Id, flags.Address, flags.Debug));
    }

    [Theory]
    [InlineData("-debug=false", false)]
    [InlineData("-debug=0", false)]
    [InlineData("-debug=F", false)]
    [InlineData("-debug=1", true)]
    [InlineData("-debug=TRUE", true)]
    public void Boolean_flags_take_Go_boolean_spellings(string arg, bool expected)
    {
        Assert.Equal(expected, FlagParser.Parse(["-namespace", "n", "-id", "i", arg, "start"]).Debug);
    }

    [Fact]
    public void A_boolean_flag_does_not_swallow_the_next_argument()
    {
        var flags = FlagParser.Parse(["-namespace", "n", "-id", "i", "-debug", "delete"]);

        Assert.Equal(ShimAction.Delete, flags.Action);
    }

    [Fact]
    public void The_last_of_a_repeated_flag_wins()
    {
        Assert.Equal("b", FlagParser.Parse(["-namespace", "a", "-namespace", "b", "-id", "i", "start"]).Namespace);
    }

    [Fact]
    public void A_string_value_may_start_with_a_dash()
    {
        Assert.Equal("-odd", FlagParser.Parse(["-namespace", "n", "-id", "-odd", "start"]).Id);
    }

    [Fact]
    public void Double_dash_ends_the_flags()
    {
        Assert.Equal(ShimAction.Start, FlagParser.Parse(["-namespace", "n", "-id", "i", "--", "start"]).Action);
    }

    [Theory]
    [InlineData(new[] { "-namespace", "n", "-id", "i", "-runtime", "x", "start" }, "flag provided but not defined: -runtime")]
    [InlineData(new[] { "-namespace", "n", "-id", "i", "--foo=bar", "start" }, "flag provided but not defined: -foo")]
    [InlineData(new[] { "-namespace", "n", "-id" }, "flag needs an argument: -id")]
    [InlineData(new[] { "-namespace", "n", "-id", "i", "-debug=yes", "start" }, "invalid boolean value \"yes\" for -debug: expected true or false")]
    [InlineData(new[] { "-namespace", "n", "---id", "i", "start" }, "bad flag syntax: ---id")]
    [InlineData(new[] { "-namespace", "n", "-=x", "start" }, "bad flag syntax: -=x")]
    [InlineData(new[] { "-namespace", "n", "-id", "i" }, "no action given: expected start or delete")]
    [InlineData(new[] { "-namespace", "n", "-id", "i", "stop" }, "unknown action \"stop\": expected start or delete")]
    [InlineData(new[] { "-namespace", "n", "-id", "i", "start", "extra" }, "unexpected argument \"extra\" after the action start")]
    [InlineData(new[] { "-id", "i", "start" }, "-namespace is required (the shim's namespace cannot be empty)")]
    [InlineData(new[] { "-namespace", "n", "delete" }, "-id is required")]
    public void Mistakes_are_invalid_arguments_naming_the_flag(string[] args, string message)
    {
        var ex = Assert.Throws<StencilException>(() => FlagParser.Parse(args));

        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal(message, ex.Message);
    }

    [Fact]
    public void Version_and_help_need_no_other_flags()
    {
        Assert.Equal(ShimAction.Version, FlagParser.Parse(["-v"]).Action);
        Assert.Equal(ShimAction.Help, FlagParser.Parse(["-h"]).Action);
        Assert.Equal(ShimAction.Help, FlagParser.Parse(["--help"]).Action);
    }

    [Fact]
    public void Serve_carries_the_socket_and_config_start_chose()
    {
        var flags = FlagParser.Parse(["-namespace", "n", "-id", "i", "-bundle", "/b", "-socket", "/run/s/x", "-config", "", "serve"]);

        Assert.Equal((ShimAction.Serve, "/run/s/x", ""), (flags.Action, flags.Socket, flags.Config));
    }
}
