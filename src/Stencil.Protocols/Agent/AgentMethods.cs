using Stencil.Ttrpc;

namespace Stencil.Protocols.Agent;

/// <summary>
/// The ttRPC methods of agent.proto, defined once: the host's client calls them and the agent serves
/// them (a test checks the table against the proto's service definitions).
/// </summary>
public static class AgentMethods
{
    public const string HealthService = "stencil.agent.v1.Health";
    public const string AgentService = "stencil.agent.v1.Agent";

    public static readonly TtrpcMethod<CheckRequest, CheckResponse> Check = new(HealthService, "Check");
    public static readonly TtrpcMethod<VersionRequest, VersionResponse> Version = new(HealthService, "Version");

    public static readonly TtrpcMethod<CreateSandboxRequest, Empty> CreateSandbox = new(AgentService, "CreateSandbox");
    public static readonly TtrpcMethod<DestroySandboxRequest, Empty> DestroySandbox = new(AgentService, "DestroySandbox");
    public static readonly TtrpcMethod<CreateContainerRequest, CreateContainerResponse> CreateContainer = new(AgentService, "CreateContainer");
    public static readonly TtrpcMethod<ContainerRequest, Empty> StartContainer = new(AgentService, "StartContainer");
    public static readonly TtrpcMethod<RemoveContainerRequest, Empty> RemoveContainer = new(AgentService, "RemoveContainer");
    public static readonly TtrpcMethod<ContainerRequest, Empty> PauseContainer = new(AgentService, "PauseContainer");
    public static readonly TtrpcMethod<ContainerRequest, Empty> ResumeContainer = new(AgentService, "ResumeContainer");
    public static readonly TtrpcMethod<UpdateContainerRequest, Empty> UpdateContainer = new(AgentService, "UpdateContainer");
    public static readonly TtrpcMethod<ContainerRequest, ContainerStats> StatsContainer = new(AgentService, "StatsContainer");
    public static readonly TtrpcMethod<ContainerRequest, ListProcessesResponse> ListProcesses = new(AgentService, "ListProcesses");
    public static readonly TtrpcMethod<ExecProcessRequest, ExecProcessResponse> ExecProcess = new(AgentService, "ExecProcess");
    public static readonly TtrpcMethod<SignalProcessRequest, Empty> SignalProcess = new(AgentService, "SignalProcess");
    public static readonly TtrpcMethod<ProcessRequest, WaitProcessResponse> WaitProcess = new(AgentService, "WaitProcess");
    public static readonly TtrpcMethod<WriteStreamRequest, WriteStreamResponse> WriteStdin = new(AgentService, "WriteStdin");
    public static readonly TtrpcMethod<ReadStreamRequest, ReadStreamResponse> ReadStdout = new(AgentService, "ReadStdout");
    public static readonly TtrpcMethod<ReadStreamRequest, ReadStreamResponse> ReadStderr = new(AgentService, "ReadStderr");
    public static readonly TtrpcMethod<ProcessRequest, Empty> CloseStdin = new(AgentService, "CloseStdin");
    public static readonly TtrpcMethod<TtyWinResizeRequest, Empty> TtyWinResize = new(AgentService, "TtyWinResize");
    public static readonly TtrpcMethod<GetOOMEventRequest, OOMEvent> GetOOMEvent = new(AgentService, "GetOOMEvent");
    public static readonly TtrpcMethod<OnlineCPUMemRequest, OnlineCPUMemResponse> OnlineCPUMem = new(AgentService, "OnlineCPUMem");
    public static readonly TtrpcMethod<ReseedRandomDevRequest, Empty> ReseedRandomDev = new(AgentService, "ReseedRandomDev");
    public static readonly TtrpcMethod<SetGuestDateTimeRequest, Empty> SetGuestDateTime = new(AgentService, "SetGuestDateTime");
    public static readonly TtrpcMethod<WarmUpRequest, WarmUpResponse> WarmUp = new(AgentService, "WarmUp");
    public static readonly TtrpcMethod<GetGuestDetailsRequest, GuestDetails> GetGuestDetails = new(AgentService, "GetGuestDetails");
    public static readonly TtrpcMethod<UpdateInterfaceRequest, Interface> UpdateInterface = new(AgentService, "UpdateInterface");
    public static readonly TtrpcMethod<UpdateRoutesRequest, Routes> UpdateRoutes = new(AgentService, "UpdateRoutes");
    public static readonly TtrpcMethod<ListInterfacesRequest, Interfaces> ListInterfaces = new(AgentService, "ListInterfaces");
    public static readonly TtrpcMethod<PortForwardOpenRequest, PortForwardOpenResponse> PortForwardOpen = new(AgentService, "PortForwardOpen");
    public static readonly TtrpcMethod<PortForwardWriteRequest, PortForwardWriteResponse> PortForwardWrite = new(AgentService, "PortForwardWrite");
    public static readonly TtrpcMethod<PortForwardReadRequest, PortForwardReadResponse> PortForwardRead = new(AgentService, "PortForwardRead");
    public static readonly TtrpcMethod<PortForwardStreamRequest, Empty> PortForwardCloseWrite = new(AgentService, "PortForwardCloseWrite");
    public static readonly TtrpcMethod<PortForwardStreamRequest, Empty> PortForwardClose = new(AgentService, "PortForwardClose");
}
