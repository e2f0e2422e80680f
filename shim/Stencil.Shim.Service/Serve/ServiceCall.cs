using Stencil.Shim.Logging;

namespace Stencil.Shim.Serve;

/// <summary>How the shim's services run a call: logged at debug, a failure logged as a warning with its kind and propagated unchanged.</summary>
internal static class ServiceCall
{
    /// <param name="subject">The log field naming what the call is about ("task", "sandbox") and its id.</param>
    public static async Task<T> RunAsync<T>(ShimLog log, string method, (string Name, string Id) subject, Func<Task<T>> body)
    {
        log.Debug(method, ShimLog.Field(subject.Name, subject.Id));
        IdleHeapTrim.Enter();
        try
        {
            return await body().ConfigureAwait(false);
        }
        catch (Exception ex)
        {
            log.Warning($"{method} failed: {ex.Message}", ShimLog.Field(subject.Name, subject.Id), ShimLog.Field("kind", StencilException.KindOf(ex).ToString()));
            throw;
        }
        finally
        {
            IdleHeapTrim.Exit();
        }
    }
}
