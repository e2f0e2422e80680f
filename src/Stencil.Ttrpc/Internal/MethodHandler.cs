using Google.Protobuf;

namespace Stencil.Ttrpc.Internal;

/// <summary>A registered method with its types erased, so the server can keep all of them in one table.</summary>
internal abstract class MethodHandler(string fullName)
{
    public string FullName { get; } = fullName;

    /// <summary>Decodes the request, runs the handler, returns the response message. Throws what the
    /// handler throws; a payload that does not decode is InvalidArgument.</summary>
    public abstract Task<IMessage> InvokeAsync(ByteString payload, TtrpcCallContext context);
}
