using Stencil.Cri.V1;

namespace Stencil.Cri;

/// <summary>The sandbox and container configs a kubelet would send, reduced to what a test varies.</summary>
public static class CriConfig
{
    /// <summary>A pod in its own network namespace (what CNI sets up), pid namespace per container,
    /// ipc shared by the pod: the kubelet's defaults.</summary>
    public static PodSandboxConfig Sandbox(string name, string logDirectory, string @namespace = "default", string? uid = null) =>
        SandboxWith(name, logDirectory, @namespace, uid, NamespaceMode.Pod);

    /// <summary>A hostNetwork: true pod (network namespace NODE): the host's network, no CNI.</summary>
    public static PodSandboxConfig HostNetworkSandbox(string name, string logDirectory, string @namespace = "default", string? uid = null) =>
        SandboxWith(name, logDirectory, @namespace, uid, NamespaceMode.Node);

    /// <summary>A container of <paramref name="image"/> running <paramref name="command"/> (the image's
    /// entrypoint is replaced), logging to NAME.log in the sandbox's log directory.</summary>
    public static ContainerConfig Container(string name, string image, params string[] command)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(image);
        var config = new ContainerConfig
        {
            Metadata = new ContainerMetadata { Name = name, Attempt = 0 },
            Image = new ImageSpec { Image = image },
            LogPath = name + ".log",
            Linux = new LinuxContainerConfig
            {
                SecurityContext = new LinuxContainerSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = NamespaceMode.Pod, Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod },
                },
            },
        };
        config.Command.AddRange(command);
        config.Labels["io.kubernetes.container.name"] = name;
        return config;
    }

    private static PodSandboxConfig SandboxWith(string name, string logDirectory, string @namespace, string? uid, NamespaceMode network)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentException.ThrowIfNullOrEmpty(logDirectory);
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata
            {
                Name = name,
                Namespace = @namespace,
                Uid = uid ?? Guid.NewGuid().ToString(),
                Attempt = 0,
            },
            Hostname = name,
            LogDirectory = logDirectory,
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption { Network = network, Pid = NamespaceMode.Container, Ipc = NamespaceMode.Pod },
                },
            },
        };
        config.Labels["io.kubernetes.pod.name"] = name;
        config.Labels["io.kubernetes.pod.namespace"] = @namespace;
        return config;
    }
}
