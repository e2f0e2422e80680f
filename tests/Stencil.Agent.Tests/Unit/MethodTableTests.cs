using Stencil.Protocols.Agent;
using Stencil.Ttrpc;

namespace Stencil.Agent.Tests.Unit;

/// <summary>The agent serves and the client calls the methods of one table (Stencil.Protocols.Agent.AgentMethods); it must match agent.proto.</summary>
[Trait("Category", "Unit")]
public class MethodTableTests
{
    private static IEnumerable<(string Service, string Name, Type Request, Type Response)> Methods(Type table) =>
        table.GetFields(System.Reflection.BindingFlags.Static | System.Reflection.BindingFlags.Public)
            .Where(f => f.FieldType.IsGenericType && f.FieldType.GetGenericTypeDefinition() == typeof(TtrpcMethod<,>))
            .Select(f =>
            {
                var m = f.GetValue(null)!;
                var args = f.FieldType.GetGenericArguments();
                return ((string)f.FieldType.GetProperty("Service")!.GetValue(m)!, (string)f.FieldType.GetProperty("Name")!.GetValue(m)!, args[0], args[1]);
            });

    private static IEnumerable<(string Service, string Name, Type Request, Type Response)> FromProto() =>
        AgentReflection.Descriptor.Services.SelectMany(s => s.Methods.Select(m =>
            (s.FullName, m.Name, m.InputType.ClrType, m.OutputType.ClrType)));

    [Fact]
    public void The_one_method_table_is_exactly_the_proto_methods() =>
        Assert.Equal(FromProto().OrderBy(m => m.Name), Methods(typeof(AgentMethods)).OrderBy(m => m.Name));
}
