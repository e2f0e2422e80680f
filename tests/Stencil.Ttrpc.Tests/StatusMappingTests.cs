using Stencil.Ttrpc.Wire;
using Stencil.Ttrpc.Internal;

namespace Stencil.Ttrpc.Tests;

[Trait("Category", "Unit")]
public class StatusMappingTests
{
    public static TheoryData<ErrorKind> AllKinds() => new(Enum.GetValues<ErrorKind>());

    [Theory]
    [MemberData(nameof(AllKinds))]
    public void Every_kind_survives_a_round_trip_through_its_code(ErrorKind kind)
    {
        Assert.Equal(kind, StatusMapping.ToKind((int)StatusMapping.ToCode(kind)));
    }

    [Theory]
    [InlineData(ErrorKind.NotFound, 5)]
    [InlineData(ErrorKind.AlreadyExists, 6)]
    [InlineData(ErrorKind.InvalidArgument, 3)]
    [InlineData(ErrorKind.FailedPrecondition, 9)]
    [InlineData(ErrorKind.Unavailable, 14)]
    [InlineData(ErrorKind.DeadlineExceeded, 4)]
    [InlineData(ErrorKind.Cancelled, 1)]
    [InlineData(ErrorKind.Unimplemented, 12)]
    [InlineData(ErrorKind.PermissionDenied, 7)]
    [InlineData(ErrorKind.ResourceExhausted, 8)]
    [InlineData(ErrorKind.Internal, 13)]
    public void Kinds_map_to_the_google_rpc_code_numbers(ErrorKind kind, int code)
    {
        Assert.Equal(code, (int)StatusMapping.ToCode(kind));
    }

    [Theory]
    [InlineData(2, ErrorKind.Internal)]             // Unknown: what Go servers send for plain errors
    [InlineData(10, ErrorKind.FailedPrecondition)]  // Aborted
    [InlineData(11, ErrorKind.InvalidArgument)]     // OutOfRange
    [InlineData(15, ErrorKind.Internal)]            // DataLoss
    [InlineData(16, ErrorKind.PermissionDenied)]    // Unauthenticated
    [InlineData(99, ErrorKind.Internal)]
    [InlineData(-1, ErrorKind.Internal)]
    public void Codes_without_a_kind_go_to_the_nearest(int code, ErrorKind kind)
    {
        Assert.Equal(kind, StatusMapping.ToKind(code));
    }

    [Fact]
    public void A_handler_exception_becomes_a_status_with_its_message()
    {
        Assert.Equal(new Status { Code = 5, Message = "container \"x\" not found" },
            StatusMapping.FromException(StencilException.NotFound("container \"x\" not found"), "S.M", deadlinePassed: false));
        Assert.Equal(new Status { Code = 1, Message = "S.M: cancelled" },
            StatusMapping.FromException(new OperationCanceledException(), "S.M", deadlinePassed: false));
        Assert.Equal(new Status { Code = 4, Message = "S.M: deadline exceeded" },
            StatusMapping.FromException(new TaskCanceledException(), "S.M", deadlinePassed: true));
        Assert.Equal(new Status { Code = 4, Message = "S.M: took too long" },
            StatusMapping.FromException(new TimeoutException("took too long"), "S.M", deadlinePassed: false));
        Assert.Equal(new Status { Code = 13, Message = "S.M: InvalidOperationException: boom" },
            StatusMapping.FromException(new InvalidOperationException("boom"), "S.M", deadlinePassed: false));
    }

    [Fact]
    public void A_status_becomes_an_exception_with_the_servers_message()
    {
        var ex = StatusMapping.ToException(new Status { Code = 9, Message = "cannot pause task in created state" }, "S.M");
        Assert.Equal(ErrorKind.FailedPrecondition, ex.Kind);
        Assert.Equal("cannot pause task in created state", ex.Message);

        var bare = StatusMapping.ToException(new Status { Code = 14 }, "S.M");
        Assert.Equal("S.M failed with status Unavailable (14)", bare.Message);
    }
}
