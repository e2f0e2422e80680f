namespace Stencil.Runtime.Storage;

/// <summary>
/// Where a mount goes. <see cref="Path"/> names it (messages, /proc/self/mountinfo); the kernel is given
/// <see cref="MountAt"/> for the mount itself and <see cref="Mounted"/> once it is made (remount,
/// propagation, unmount). Inside a folder the guest can write (the pod's share) these are /proc/self/fd
/// paths of folders opened beneath it (see Stencil.Interop's ConfinedDirectory): MountAt the target's
/// own fd, so no link the guest swaps in is followed; Mounted its parent's fd and its name, which
/// reaches the mount on top (the guest cannot rename or replace a mount point). A plain path converts
/// to a target that is that path throughout (a folder the guest cannot write).
/// </summary>
public readonly record struct MountTarget(string Path, string MountAt, string Mounted)
{
    public static implicit operator MountTarget(string path) => new(path, path, path);

    public override string ToString() => Path;
}
