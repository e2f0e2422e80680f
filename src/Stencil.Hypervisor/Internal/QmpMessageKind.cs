namespace Stencil.Hypervisor.Internal;

internal enum QmpMessageKind
{
    /// <summary>{"QMP": {"version": ..., "capabilities": [...]}}: the first line QEMU sends.</summary>
    Greeting,
    /// <summary>{"return": ..., "id": ...}</summary>
    Return,
    /// <summary>{"error": {"class": ..., "desc": ...}, "id": ...}</summary>
    Error,
    /// <summary>{"event": ..., "data": ..., "timestamp": {...}}</summary>
    Event,
}
