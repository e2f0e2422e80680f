using Google.Protobuf;

namespace Stencil.Ttrpc;

/// <summary>
/// One unary ttRPC method: the fully qualified service ("containerd.task.v2.Task"), the method name
/// ("Create") and its message types. Typed stubs and server bindings are written with it, so nobody
/// marshals by hand and nothing needs reflection.
/// </summary>
public sealed class TtrpcMethod<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>, new()
    where TResponse : class, IMessage<TResponse>, new()
{
    public TtrpcMethod(string service, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(service);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Service = service;
        Name = name;
        FullName = $"{service}.{name}";
    }

    public string Service { get; }

    public string Name { get; }

    /// <summary>"Service.Name", as used in error messages.</summary>
    public string FullName { get; }

    public override string ToString() => FullName;
}
