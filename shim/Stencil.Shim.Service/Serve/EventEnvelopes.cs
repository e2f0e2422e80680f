using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Ev = Stencil.Protocols.Containerd.Events;
using Stencil.Protocols.Containerd.EventsService;
using R = Stencil.Runtime;

namespace Stencil.Shim.Serve;

/// <summary>
/// Pure: a runtime event as containerd's Envelope, with the topic containerd subscribers filter on and
/// the event in an Any whose type URL is the bare message name ("containerd.events.TaskExit"), as
/// containerd's typeurl registry names them (Any.Pack would add type.googleapis.com/).
/// </summary>
internal static class EventEnvelopes
{
    public static Envelope ToEnvelope(R.RuntimeEvent runtimeEvent, string ns)
    {
        var (topic, message) = ToMessage(runtimeEvent);
        return new Envelope
        {
            Timestamp = Timestamp.FromDateTimeOffset(runtimeEvent.Timestamp),
            Namespace = ns,
            Topic = topic,
            Event = new Any { TypeUrl = message.Descriptor.FullName, Value = message.ToByteString() },
        };
    }

    public static (string Topic, IMessage Message) ToMessage(R.RuntimeEvent runtimeEvent) => runtimeEvent switch
    {
        R.TaskCreated e => ("/tasks/create", Created(e)),
        R.TaskStarted e => ("/tasks/start", new Ev.TaskStart { ContainerId = e.ContainerId, Pid = e.Pid }),
        R.TaskExited e => ("/tasks/exit", new Ev.TaskExit
        {
            ContainerId = e.ContainerId,
            // containerd names the init process by the container id.
            Id = e.ExecId.Length > 0 ? e.ExecId : e.ContainerId,
            Pid = e.Pid,
            ExitStatus = e.ExitCode,
            ExitedAt = Timestamp.FromDateTimeOffset(e.ExitedAt),
        }),
        R.TaskDeleted e => ("/tasks/delete", new Ev.TaskDelete
        {
            ContainerId = e.ContainerId,
            Pid = e.Pid,
            ExitStatus = e.ExitCode,
            ExitedAt = Timestamp.FromDateTimeOffset(e.ExitedAt),
        }),
        R.TaskExecAdded e => ("/tasks/exec-added", new Ev.TaskExecAdded { ContainerId = e.ContainerId, ExecId = e.ExecId }),
        R.TaskExecStarted e => ("/tasks/exec-started", new Ev.TaskExecStarted { ContainerId = e.ContainerId, ExecId = e.ExecId, Pid = e.Pid }),
        R.TaskPaused e => ("/tasks/paused", new Ev.TaskPaused { ContainerId = e.ContainerId }),
        R.TaskResumed e => ("/tasks/resumed", new Ev.TaskResumed { ContainerId = e.ContainerId }),
        R.TaskOom e => ("/tasks/oom", new Ev.TaskOOM { ContainerId = e.ContainerId }),
        _ => throw StencilException.Internal($"no containerd event for runtime event {runtimeEvent.GetType().Name}"),
    };

    private static Ev.TaskCreate Created(R.TaskCreated e)
    {
        var message = new Ev.TaskCreate
        {
            ContainerId = e.ContainerId,
            Bundle = e.Bundle,
            Pid = e.Pid,
            Io = new Ev.TaskIO { Stdin = e.Stdio.Stdin, Stdout = e.Stdio.Stdout, Stderr = e.Stdio.Stderr, Terminal = e.Stdio.Terminal },
        };
        message.Rootfs.AddRange(e.Rootfs.Select(TaskConversions.ToProto));
        return message;
    }
}
