namespace Stencil.Factory;

/// <summary>
/// A paused clone one process gives to another (the factory daemon to a shim): what the receiver
/// needs to take it over with <see cref="VmFactory.AttachHandedOverAsync"/>. Its folder holds the
/// QMP and agent sockets, pid file and console log (<see cref="Hypervisor.VmInstancePaths.InDirectory"/>)
/// and the folder it exports over 9p; from the hand-over on, the receiver owns all of it.
/// </summary>
/// <param name="Name">The clone's name in the giver's logs ("pool-1a2b3c4d").</param>
/// <param name="ProcessId">QEMU's pid.</param>
/// <param name="Directory">The clone's own folder.</param>
/// <param name="SharedDirectory">The folder the guest sees over 9p (the receiver mounts container root file systems in it).</param>
/// <param name="TemplateFingerprint">The template it was restored from; the receiver refuses a clone of any other.</param>
public sealed record HandedOverClone(string Name, int ProcessId, string Directory, string SharedDirectory, string TemplateFingerprint)
{
    /// <summary>The file a giver writes into a clone's folder when it hands the clone over: the folder is no longer the giver's to clean.</summary>
    public const string MarkerName = "handed-over";
}
