using System.Text.Json;
using System.Text.Json.Nodes;

namespace Stencil.Oci;

/// <summary>The runtime-spec "hooks" object as both sides of the VM split it: createContainer and
/// startContainer run in the container's namespaces (in the VM, by the guest's OCI runtime); the host
/// runs the rest.</summary>
public static class SpecHooks
{
    /// <summary>The non-empty createContainer and startContainer lists of <paramref name="hooks"/>, or null when there are none.</summary>
    public static JsonObject? ContainerNamespaceHooks(JsonElement hooks)
    {
        if (hooks.ValueKind != JsonValueKind.Object)
            return null;
        var kept = new JsonObject();
        foreach (var kind in hooks.EnumerateObject())
        {
            if (kind.Name is "createContainer" or "startContainer" && kind.Value.ValueKind == JsonValueKind.Array && kind.Value.GetArrayLength() > 0)
                kept[kind.Name] = JsonNode.Parse(kind.Value.GetRawText());
        }
        return kept.Count == 0 ? null : kept;
    }

    /// <summary>A node as the element a spec's extension data holds.</summary>
    public static JsonElement ToElement(JsonNode node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return document.RootElement.Clone();
    }
}
