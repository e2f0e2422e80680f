namespace Stencil.Agent.Client;

public enum StorageKind
{
    /// <summary>A folder inside the sandbox's shared 9p folder, bind-mounted.</summary>
    SharedPath,
    /// <summary>A virtio-blk device found by PCI address ("0000:01:00.0") or PCI path ("03/00").</summary>
    BlockByPci,
    /// <summary>A virtio-blk device found by its serial= property.</summary>
    BlockBySerial,
    /// <summary>A tmpfs of the sandbox, by name, shared by the containers that name it.</summary>
    Ephemeral,
}
