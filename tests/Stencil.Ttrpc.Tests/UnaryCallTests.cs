using Google.Protobuf.WellKnownTypes;

namespace Stencil.Ttrpc.Tests;

[Trait("Category", "Unit")]
public class UnaryCallTests
{
    [Fact]
    public async Task A_call_returns_the_handlers_response()
    {
        await using var c = await Connected.StartAsync();
        var response = await c.Client.CallAsync(TestService.Echo, new StringValue { Value = "hello" });
        Assert.Equal("hello", response.Value);
    }

    [Fact]
    public async Task Metadata_arrives_in_order_with_repeated_keys_and_case_insensitive_lookup()
    {
        await using var c = await Connected.StartAsync();
        var options = new TtrpcCallOptions
        {
            Metadata =
            [
                new("containerd-namespace-ttrpc", "k8s.io"),
                new("x-trace", "1"),
                new("x-trace", "2"),
            ],
        };
        var response = await c.Client.CallAsync(TestService.Metadata, new Empty(), options);
        Assert.Equal("containerd-namespace-ttrpc=k8s.io\nx-trace=1\nx-trace=2\nnamespace=k8s.io", response.Value);
    }

    [Fact]
    public async Task No_metadata_is_an_empty_list()
    {
        await using var c = await Connected.StartAsync();
        var response = await c.Client.CallAsync(TestService.Metadata, new Empty());
        Assert.Equal("\nnamespace=(none)", response.Value);
    }

    [Fact]
    public async Task An_unknown_method_is_Unimplemented_and_names_it()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.Unknown, new Empty()));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Equal("unknown method stencil.test.v1.Test.NoSuchMethod", ex.Message);
    }

    [Fact]
    public async Task An_unknown_service_is_Unimplemented_and_names_it()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.UnknownService, new Empty()));
        Assert.Equal(ErrorKind.Unimplemented, ex.Kind);
        Assert.Equal("unknown service stencil.test.v1.Nothing", ex.Message);
    }

    public static TheoryData<ErrorKind> AllKinds() => new(System.Enum.GetValues<ErrorKind>());

    [Theory]
    [MemberData(nameof(AllKinds))]
    public async Task A_handlers_error_kind_and_message_reach_the_caller(ErrorKind kind)
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.Fail, new StringValue { Value = kind.ToString() }));
        Assert.Equal(kind, ex.Kind);
        Assert.Equal($"failed: {kind}", ex.Message);
    }

    [Fact]
    public async Task Any_other_exception_is_Internal_with_its_message()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.Crash, new Empty()));
        Assert.Equal(ErrorKind.Internal, ex.Kind);
        Assert.Equal("stencil.test.v1.Test.Crash: InvalidOperationException: boom", ex.Message);
    }

    [Fact]
    public async Task A_handler_returning_null_is_Internal()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.ReturnNull, new Empty()));
        Assert.Equal(ErrorKind.Internal, ex.Kind);
        Assert.Equal("stencil.test.v1.Test.ReturnNull: handler returned null", ex.Message);
    }

    [Fact]
    public async Task A_response_over_4_MiB_is_ResourceExhausted_and_the_connection_stays_usable()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() => c.Client.CallAsync(TestService.Big, new Empty()));
        Assert.Equal(ErrorKind.ResourceExhausted, ex.Kind);
        Assert.Contains("over the maximum message size of 4194304", ex.Message);
        Assert.Equal("ok", (await c.Client.CallAsync(TestService.Echo, new StringValue { Value = "ok" })).Value);
    }

    [Fact]
    public async Task A_request_over_4_MiB_fails_before_it_is_sent()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            c.Client.CallAsync(TestService.Echo, new StringValue { Value = new string('x', 5 << 20) }));
        Assert.Equal(ErrorKind.ResourceExhausted, ex.Kind);
        Assert.StartsWith("ttrpc call stencil.test.v1.Test.Echo: request is 524", ex.Message);
        Assert.Equal(0, c.Client.PendingCount);
    }

    [Fact]
    public async Task Registering_a_method_twice_is_AlreadyExists()
    {
        await using var server = new TtrpcServer();
        server.Register(TestService.Echo, (r, _) => Task.FromResult(r));
        var ex = Assert.Throws<StencilException>(() => server.Register(TestService.Echo, (r, _) => Task.FromResult(r)));
        Assert.Equal(ErrorKind.AlreadyExists, ex.Kind);
        Assert.Equal("ttrpc method stencil.test.v1.Test.Echo is already registered", ex.Message);
    }

    [Fact]
    public async Task A_non_positive_timeout_is_InvalidArgument()
    {
        await using var c = await Connected.StartAsync();
        var ex = await Assert.ThrowsAsync<StencilException>(() =>
            c.Client.CallAsync(TestService.Echo, new StringValue(), new TtrpcCallOptions { Timeout = TimeSpan.Zero }));
        Assert.Equal(ErrorKind.InvalidArgument, ex.Kind);
    }
}
