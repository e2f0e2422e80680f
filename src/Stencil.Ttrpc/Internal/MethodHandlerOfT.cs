using Google.Protobuf;

namespace Stencil.Ttrpc.Internal;

/// <summary>The typed side of <see cref="MethodHandler"/>: <c>new TRequest()</c> and MergeFrom, no reflection.</summary>
internal sealed class MethodHandler<TRequest, TResponse>(
    TtrpcMethod<TRequest, TResponse> method, Func<TRequest, TtrpcCallContext, Task<TResponse>> handler)
    : MethodHandler(method.FullName)
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public override async Task<IMessage> InvokeAsync(ByteString payload, TtrpcCallContext context)
    {
        var request = new TRequest();
        try
        {
            request.MergeFrom(payload);
        }
        catch (InvalidProtocolBufferException ex)
        {
            throw new StencilException(ErrorKind.InvalidArgument,
                $"{FullName}: request payload of {payload.Length} bytes is not a {typeof(TRequest).Name}: {ex.Message}");
        }
        var response = await handler(request, context).ConfigureAwait(false);
        return response ?? throw new StencilException(ErrorKind.Internal, $"{FullName}: handler returned null");
    }
}
