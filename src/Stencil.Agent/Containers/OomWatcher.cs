using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Win32.SafeHandles;
using Stencil.Interop;
using Stencil.Agent.Logging;
using Tmds.Linux;

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
    private SafeFileHandle? _inotify;

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
            if (_inotify is null)
            {
                _inotify = Errno.Check(Libc.InotifyInit1(LibC.O_CLOEXEC), "inotify_init1");
                var inotify = _inotify;
                new Thread(() => Loop(inotify)) { IsBackground = true, Name = "oom-watcher" }.Start();
            }
            var wd = Libc.InotifyAddWatch(_inotify, file, Libc.IN_MODIFY);
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
                Libc.InotifyRmWatch(_inotify!, wd);
            }
        }
    }

    private void Loop(SafeFileHandle inotify)
    {
        var buffer = new byte[4096];
        while (true)
        {
            var n = Libc.Read(inotify, buffer);
            if (n < 0)
            {
                if (Errno.Last == LibC.EINTR)
                    continue;
                AgentLog.Error($"inotify read failed with errno {Errno.Last}; OOM events stop");
                return;
            }
            for (var offset = 0; offset + InotifyEvent.Size <= n;)
            {
                var e = MemoryMarshal.Read<InotifyEvent>(buffer.AsSpan(offset));
                offset += InotifyEvent.Size + (int)e.NameLength;
                Check(e.Watch);
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
