using System.Threading.Channels;
using Stencil.Agent.Interop;
using Stencil.Agent.Logging;

namespace Stencil.Agent.Containers;

/// <summary>
/// Reports OOM kills. cgroup v2 raises an inotify "modified" event on memory.events when a count in
/// it changes; one thread blocks in read() on the inotify fd, rereads the file, and queues the
/// container id when oom_kill went up. GetOOMEvent waits on the queue.
/// </summary>
internal sealed class OomWatcher : IOomWatch
{
    private readonly object _lock = new();
    private readonly Dictionary<int, Watch> _byWatch = [];
    private readonly Dictionary<string, int> _byContainer = new(StringComparer.Ordinal);
    private readonly Channel<string> _events = Channel.CreateUnbounded<string>();
    private int _fd = -1;

    private sealed class Watch(string containerId, string eventsFile, ulong oomKills)
    {
        internal string ContainerId { get; } = containerId;
        internal string EventsFile { get; } = eventsFile;
        internal ulong OomKills { get; set; } = oomKills;
    }

    public ValueTask<string> NextAsync(CancellationToken cancellationToken) => _events.Reader.ReadAsync(cancellationToken);

    public void Add(string containerId, string cgroupDir)
    {
        var file = Path.Combine(cgroupDir, "memory.events");
        if (!File.Exists(file))
        {
            AgentLog.Debug($"no {file}: OOM events off for container {containerId}");
            return;
        }
        lock (_lock)
        {
            if (_fd < 0)
            {
                _fd = Errno.Check(Libc.InotifyInit1(Libc.O_CLOEXEC), "inotify_init1");
                new Thread(Loop) { IsBackground = true, Name = "oom-watcher" }.Start();
            }
            var wd = Libc.InotifyAddWatch(_fd, file, Libc.IN_MODIFY);
            if (wd < 0)
            {
                AgentLog.Warn($"inotify_add_watch {file}: errno {Errno.Last}");
                return;
            }
            _byWatch[wd] = new Watch(containerId, file, ReadOomKills(file));
            _byContainer[containerId] = wd;
        }
    }

    public void Remove(string containerId)
    {
        lock (_lock)
        {
            if (_byContainer.Remove(containerId, out var wd))
            {
                _byWatch.Remove(wd);
                Libc.InotifyRmWatch(_fd, wd);
            }
        }
    }

    private unsafe void Loop()
    {
        var buffer = new byte[4096];
        while (true)
        {
            nint n;
            fixed (byte* p = buffer)
                n = Libc.Read(_fd, p, buffer.Length);
            if (n < 0)
            {
                if (Errno.Last == Libc.EINTR)
                    continue;
                AgentLog.Error($"inotify read failed with errno {Errno.Last}; OOM events stop");
                return;
            }
            // struct inotify_event { int wd; uint32 mask, cookie, len; char name[len]; }
            for (var offset = 0; offset + 16 <= n;)
            {
                var wd = BitConverter.ToInt32(buffer, offset);
                var nameLength = BitConverter.ToInt32(buffer, offset + 12);
                offset += 16 + nameLength;
                Check(wd);
            }
        }
    }

    private void Check(int wd)
    {
        string? fired = null;
        lock (_lock)
        {
            if (_byWatch.TryGetValue(wd, out var watch))
            {
                var count = ReadOomKills(watch.EventsFile);
                if (count > watch.OomKills)
                    fired = watch.ContainerId;
                watch.OomKills = Math.Max(count, watch.OomKills);
            }
        }
        if (fired is not null)
        {
            AgentLog.Info($"container {fired}: OOM kill");
            _events.Writer.TryWrite(fired);
        }
    }

    private static ulong ReadOomKills(string file)
    {
        try
        {
            return CgroupStats.KeyValues(File.ReadAllText(file)).GetValueOrDefault("oom_kill");
        }
        catch (IOException)
        {
            return 0;
        }
    }
}
