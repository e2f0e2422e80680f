namespace Stencil.Runtime.Storage;

/// <summary>The seam between the runtime and the host's mount table (real: <see cref="LinuxMounter"/>).</summary>
public interface IMounter
{
    /// <summary>Mounts <paramref name="mount"/> (containerd's form: type, source, options) onto <paramref name="target"/>.</summary>
    void Mount(MountSpec mount, MountTarget target);

    /// <summary>Unmounts (lazily when busy; a link at the last name is not followed); a target that is
    /// not mounted is not an error.</summary>
    void Unmount(MountTarget target);

    bool IsMountPoint(string path);
}
