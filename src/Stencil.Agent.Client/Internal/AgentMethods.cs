using Stencil.Protocols.Agent;
using Stencil.Ttrpc;

namespace Stencil.Agent.Client.Internal;

/// <summary>The ttRPC methods of agent.proto, as the client calls them (the agent keeps the same list; a test compares both with the proto).</summary>
internal static class AgentMethods
{
    internal const string HealthService = "stencil.agent.v1.Health";
    internal const string AgentService = "stencil.agent.v1.Agent";

    internal static readonly TtrpcMethod<CheckRequest, CheckResponse> Check = new(HealthService, "Check");
    internal static readonly TtrpcMethod<VersionRequest, VersionResponse> Version = new(HealthService, "Version");

    internal static readonly TtrpcMethod<CreateSandboxRequest, Empty> CreateSandbox = new(AgentService, "CreateSandbox");
    internal static readonly TtrpcMethod<DestroySandboxRequest, Empty> DestroySandbox = new(AgentService, "DestroySandbox");
    internal static readonly TtrpcMethod<CreateContainerRequest, CreateContainerResponse> CreateContainer = new(AgentService, "CreateContainer");
    internal static readonly TtrpcMethod<ContainerRequest, Empty> StartContainer = new(AgentService, "StartContainer");
    internal static readonly TtrpcMethod<RemoveContainerRequest, Empty> RemoveContainer = new(AgentService, "RemoveContainer");
    internal static readonly TtrpcMethod<ContainerRequest, Empty> PauseContainer = new(AgentService, "PauseContainer");
    internal static readonly TtrpcMethod<ContainerRequest, Empty> ResumeContainer = new(AgentService, "ResumeContainer");
    internal static readonly TtrpcMethod<UpdateContainerRequest, Empty> UpdateContainer = new(AgentService, "UpdateContainer");
    internal static readonly TtrpcMethod<ContainerRequest, ContainerStats> StatsContainer = new(AgentService, "StatsContainer");
    internal static readonly TtrpcMethod<ContainerRequest, ListProcessesResponse> ListProcesses = new(AgentService, "ListProcesses");
    internal static readonly TtrpcMethod<ExecProcessRequest, ExecProcessResponse> ExecProcess = new(AgentService, "ExecProcess");
    internal static readonly TtrpcMethod<SignalProcessRequest, Empty> SignalProcess = new(AgentService, "SignalProcess");
    internal static readonly TtrpcMethod<ProcessRequest, WaitProcessResponse> WaitProcess = new(AgentService, "WaitProcess");
    internal static readonly TtrpcMethod<WriteStreamRequest, WriteStreamResponse> WriteStdin = new(AgentService, "WriteStdin");
    internal static readonly TtrpcMethod<ReadStreamRequest, ReadStreamResponse> ReadStdout = new(AgentService, "ReadStdout");
    internal static readonly TtrpcMethod<ReadStreamRequest, ReadStreamResponse> ReadStderr = new(AgentService, "ReadStderr");
    internal static readonly TtrpcMethod<ProcessRequest, Empty> CloseStdin = new(AgentService, "CloseStdin");
    internal static readonly TtrpcMethod<TtyWinResizeRequest, Empty> TtyWinResize = new(AgentService, "TtyWinResize");
    internal static readonly TtrpcMethod<GetOOMEventRequest, OOMEvent> GetOOMEvent = new(AgentService, "GetOOMEvent");
    internal static readonly TtrpcMethod<OnlineCPUMemRequest, OnlineCPUMemResponse> OnlineCPUMem = new(AgentService, "OnlineCPUMem");
    internal static readonly TtrpcMethod<ReseedRandomDevRequest, Empty> ReseedRandomDev = new(AgentService, "ReseedRandomDev");
    internal static readonly TtrpcMethod<SetGuestDateTimeRequest, Empty> SetGuestDateTime = new(AgentService, "SetGuestDateTime");
    internal static readonly TtrpcMethod<GetGuestDetailsRequest, Stencil.Protocols.Agent.GuestDetails> GetGuestDetails = new(AgentService, "GetGuestDetails");
    internal static readonly TtrpcMethod<UpdateInterfaceRequest, Interface> UpdateInterface = new(AgentService, "UpdateInterface");
    internal static readonly TtrpcMethod<UpdateRoutesRequest, Routes> UpdateRoutes = new(AgentService, "UpdateRoutes");
    internal static readonly TtrpcMethod<ListInterfacesRequest, Interfaces> ListInterfaces = new(AgentService, "ListInterfaces");
    internal static readonly TtrpcMethod<PortForwardOpenRequest, PortForwardOpenResponse> PortForwardOpen = new(AgentService, "PortForwardOpen");
    internal static readonly TtrpcMethod<PortForwardWriteRequest, PortForwardWriteResponse> PortForwardWrite = new(AgentService, "PortForwardWrite");
    internal static readonly TtrpcMethod<PortForwardReadRequest, PortForwardReadResponse> PortForwardRead = new(AgentService, "PortForwardRead");
    internal static readonly TtrpcMethod<PortForwardStreamRequest, Empty> PortForwardCloseWrite = new(AgentService, "PortForwardCloseWrite");
    internal static readonly TtrpcMethod<PortForwardStreamRequest, Empty> PortForwardClose = new(AgentService, "PortForwardClose");
}
