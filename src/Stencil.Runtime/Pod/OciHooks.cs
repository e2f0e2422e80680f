using System.Text;
using System.Text.Json;
using Stencil.Oci.Model;
using Stencil.Runtime.Network;

namespace Stencil.Runtime.Pod;

/// <summary>One OCI hook (runtime-spec config.md, "POSIX-platform Hooks"). Args[0] is argv[0] in the spec;
/// .NET starts the program with its path as argv[0], so Args[0] is not passed on (the one difference from runc).</summary>
internal sealed record OciHook(string Path, IReadOnlyList<string> Args, IReadOnlyList<string> Env, int? TimeoutSeconds);

/// <summary>
/// The hooks of a container's spec that run on the host, where the client that wrote them expects them:
/// createRuntime and prestart (during create, before the container is created in the guest, status
/// "creating"), poststart (after start, "running") and poststop (after delete, "stopped"). Each gets the
/// container's state on stdin, with the pod holder's pid (<see cref="PodHolder"/>): a host process in
/// the pod's network namespace, which is what nerdctl's hook and CNI expect. A failing createRuntime or
/// prestart hook fails the create with the hook's own output, as runc reports it; a failing poststart
/// or poststop hook is logged and the rest go on (the spec says so). createContainer and startContainer
/// hooks run in the container's namespaces, which are in the VM: the guest's OCI runtime runs them
/// (GuestSpecBuilder passes them on), from the container's root file system.
/// </summary>
internal sealed class OciHooks
{
    private const int MaxOutput = 4096;

    private OciHooks(Dictionary<string, List<OciHook>> hooks) => Hooks = hooks;

    public IReadOnlyDictionary<string, List<OciHook>> Hooks { get; }

    public bool IsEmpty => Hooks.Values.All(h => h.Count == 0);

    /// <summary>The hooks of <paramref name="spec"/> (none when it has no "hooks").</summary>
    /// <exception cref="StencilException">InvalidArgument: malformed hooks, or createContainer/startContainer hooks.</exception>
    public static OciHooks FromSpec(Spec spec, string containerId)
    {
        var hooks = new Dictionary<string, List<OciHook>>(StringComparer.Ordinal);
        if (spec.Extra?.TryGetValue("hooks", out var element) != true || element.ValueKind == JsonValueKind.Null)
            return new OciHooks(hooks);
        if (element.ValueKind != JsonValueKind.Object)
            throw StencilException.InvalidArgument($"container \"{containerId}\": hooks is not an object");
        foreach (var kind in element.EnumerateObject())
        {
            if (kind.Name is not ("createRuntime" or "prestart" or "poststart" or "poststop"))
                continue;
            if (kind.Value.ValueKind != JsonValueKind.Array)
                throw StencilException.InvalidArgument($"container \"{containerId}\": hooks.{kind.Name} is not an array");
            var list = new List<OciHook>();
            foreach (var h in kind.Value.EnumerateArray())
                list.Add(ParseHook(h, $"container \"{containerId}\": hooks.{kind.Name}[{list.Count}]"));
            hooks[kind.Name] = list;
        }
        return new OciHooks(hooks);
    }

    private static OciHook ParseHook(JsonElement h, string where)
    {
        if (h.ValueKind != JsonValueKind.Object || !h.TryGetProperty("path", out var path) || path.ValueKind != JsonValueKind.String
            || !System.IO.Path.IsPathFullyQualified(path.GetString()!))
            throw StencilException.InvalidArgument($"{where}: path must be an absolute path");
        static List<string> Strings(JsonElement h, string name, string where) =>
            !h.TryGetProperty(name, out var a) || a.ValueKind == JsonValueKind.Null ? []
            : a.ValueKind == JsonValueKind.Array && a.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String)
                ? [.. a.EnumerateArray().Select(e => e.GetString()!)]
                : throw StencilException.InvalidArgument($"{where}: {name} must be an array of strings");
        int? timeout = null;
        if (h.TryGetProperty("timeout", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (!t.TryGetInt32(out var seconds) || seconds <= 0)
                throw StencilException.InvalidArgument($"{where}: timeout must be a positive number of seconds");
            timeout = seconds;
        }
        return new OciHook(path.GetString()!, Strings(h, "args", where), Strings(h, "env", where), timeout);
    }

    /// <summary>The state JSON a hook reads on stdin (runtime-spec runtime.md, "State").</summary>
    internal static string StateJson(string? ociVersion, string id, string status, int pid, string bundle, IReadOnlyDictionary<string, string>? annotations)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("ociVersion", ociVersion ?? "1.0.2");
            w.WriteString("id", id);
            w.WriteString("status", status);
            if (pid > 0)
                w.WriteNumber("pid", pid);
            w.WriteString("bundle", bundle);
            w.WriteStartObject("annotations");
            foreach (var (k, v) in annotations ?? new Dictionary<string, string>())
                w.WriteString(k, v);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Runs the hooks of <paramref name="kind"/> in order. Throws on the first failure (FailedPrecondition
    /// with the hook's exit status, stdout and stderr) unless <paramref name="warnOnly"/>: then logs and goes on.</summary>
    public async Task RunAsync(string kind, string state, ILog log, string what, bool warnOnly, CancellationToken cancellationToken)
    {
        if (!Hooks.TryGetValue(kind, out var list))
            return;
        for (var i = 0; i < list.Count; i++)
        {
            var hook = list[i];
            string? failure;
            try
            {
                var runner = new ProcessCommandRunner
                {
                    Timeout = hook.TimeoutSeconds is { } s ? TimeSpan.FromSeconds(s) : Timeout.InfiniteTimeSpan,
                    Environment = hook.Env,
                };
                var result = await runner.RunAsync(hook.Path, [.. hook.Args.Skip(1)], state, cancellationToken).ConfigureAwait(false);
                failure = result.ExitCode == 0 ? null
                    : $"exit status {result.ExitCode}, stdout: {Bounded(result.Stdout)}, stderr: {Bounded(result.Stderr)}";
            }
            catch (StencilException ex)
            {
                failure = ex.Message;
            }
            if (failure is null)
            {
                log.Debug($"{what}: {kind} hook #{i} ({hook.Path}) done");
                continue;
            }
            var message = $"error running {kind} hook #{i} ({hook.Path}): {failure}";
            if (!warnOnly)
                throw StencilException.FailedPrecondition($"{what}: {message}");
            log.Warning($"{what}: {message}");
        }
    }

    private static string Bounded(string text)
    {
        text = text.TrimEnd();
        return text.Length <= MaxOutput ? text : text[..MaxOutput] + "...";
    }
}
