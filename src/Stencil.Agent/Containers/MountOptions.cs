using Tmds.Linux;

namespace Stencil.Agent.Containers;

/// <summary>Splits mount options into mount(2) flags and the file system's data string. Pure.</summary>
internal static class MountOptions
{
    internal static (ulong Flags, string Data) Parse(IEnumerable<string> options)
    {
        ulong flags = 0;
        var data = new List<string>();
        foreach (var option in options)
        {
            switch (option)
            {
                case "ro": flags |= LibC.MS_RDONLY; break;
                case "rw": flags &= ~LibC.MS_RDONLY; break;
                case "nosuid": flags |= LibC.MS_NOSUID; break;
                case "suid": flags &= ~LibC.MS_NOSUID; break;
                case "nodev": flags |= LibC.MS_NODEV; break;
                case "dev": flags &= ~LibC.MS_NODEV; break;
                case "noexec": flags |= LibC.MS_NOEXEC; break;
                case "exec": flags &= ~LibC.MS_NOEXEC; break;
                case "sync": flags |= LibC.MS_SYNCHRONOUS; break;
                case "noatime": flags |= LibC.MS_NOATIME; break;
                case "nodiratime": flags |= LibC.MS_NODIRATIME; break;
                case "relatime": flags |= LibC.MS_RELATIME; break;
                case "strictatime": flags |= LibC.MS_STRICTATIME; break;
                case "bind": flags |= LibC.MS_BIND; break;
                case "rbind": flags |= LibC.MS_BIND | LibC.MS_REC; break;
                case "defaults" or "": break;
                default:
                    if (option.Contains(','))
                        throw StencilException.InvalidArgument($"mount option \"{option}\" contains a comma: give one option per entry");
                    data.Add(option);
                    break;
            }
        }
        return (flags, string.Join(',', data));
    }
}
