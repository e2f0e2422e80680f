using Stencil.Agent.Interop;

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
                case "ro": flags |= Libc.MS_RDONLY; break;
                case "rw": flags &= ~Libc.MS_RDONLY; break;
                case "nosuid": flags |= Libc.MS_NOSUID; break;
                case "suid": flags &= ~Libc.MS_NOSUID; break;
                case "nodev": flags |= Libc.MS_NODEV; break;
                case "dev": flags &= ~Libc.MS_NODEV; break;
                case "noexec": flags |= Libc.MS_NOEXEC; break;
                case "exec": flags &= ~Libc.MS_NOEXEC; break;
                case "sync": flags |= 16; break;               // MS_SYNCHRONOUS
                case "noatime": flags |= 1024; break;          // MS_NOATIME
                case "nodiratime": flags |= 2048; break;       // MS_NODIRATIME
                case "relatime": flags |= 1 << 21; break;      // MS_RELATIME
                case "strictatime": flags |= 1 << 24; break;   // MS_STRICTATIME
                case "bind": flags |= Libc.MS_BIND; break;
                case "rbind": flags |= Libc.MS_BIND | Libc.MS_REC; break;
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
