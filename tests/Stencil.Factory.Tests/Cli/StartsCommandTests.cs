using Stencil.Cli;
using Stencil.Runtime.Pod;

namespace Stencil.Factory.Tests.Cli;

[Trait("Category", "Unit")]
public sealed class StartsCommandTests
{
    private static readonly StartTimeline[] s_starts =
    [
        new(DateTimeOffset.FromUnixTimeMilliseconds(1_796_000_060_000), "k8s.io", "0123456789abcdef0123456789abcdef", 21, "pool", 95.4, 12, 305, 118, 590),
        new(DateTimeOffset.FromUnixTimeMilliseconds(1_796_000_000_000), "default", "web", null, "cold boot", 1850, 9, 420, 130, 2500),
    ];

    [Fact]
    public void The_table_has_a_row_per_start_with_numbers_aligned_right() =>
        Assert.Equal(
            """
            STARTED               NAMESPACE  POD                       VM         SHIM  VM MS  STORAGE  CREATE  START  TOTAL
            2026-11-30 00:54:20Z  k8s.io     0123456789abcdef0123456…  pool         21     95       12     305    118    590
            2026-11-30 00:53:20Z  default    web                       cold boot     -   1850        9     420    130   2500
            milliseconds: SHIM `start` until the pod runtime exists, VM MS until the VM's agent answered, STORAGE host mounts, CREATE the container's create in the guest, START its start; TOTAL from `start` to the container running

            """.ReplaceLineEndings("\n"),
            StartsCommand.Table(s_starts));

    [Fact]
    public void No_starts_say_so() => Assert.Equal("no pod starts recorded\n", StartsCommand.Table([]));

    [Fact]
    public void The_json_is_an_array_newest_first_with_null_for_an_unknown_shim_time() =>
        Assert.Equal(
            """
            [
              {
                "started_at": "2026-11-30T00:54:20.000Z",
                "namespace": "k8s.io",
                "pod": "0123456789abcdef0123456789abcdef",
                "vm": "pool",
                "shim_ms": 21,
                "vm_ms": 95,
                "storage_ms": 12,
                "guest_create_ms": 305,
                "start_ms": 118,
                "total_ms": 590
              },
              {
                "started_at": "2026-11-30T00:53:20.000Z",
                "namespace": "default",
                "pod": "web",
                "vm": "cold boot",
                "shim_ms": null,
                "vm_ms": 1850,
                "storage_ms": 9,
                "guest_create_ms": 420,
                "start_ms": 130,
                "total_ms": 2500
              }
            ]

            """.ReplaceLineEndings("\n"),
            StartsCommand.Json(s_starts));

    [Theory]
    [InlineData("starts", false)]
    [InlineData("starts --json", true)]
    public void Starts_parses(string line, bool json) =>
        Assert.Equal(new CliCommand(CliVerb.Starts, Json: json), CliCommand.Parse(line.Split(' ')));

    [Fact]
    public void Starts_refuses_other_arguments() =>
        Assert.Equal("unexpected argument \"--all\" after starts (known: --json)",
            Assert.Throws<CliUsageException>(() => CliCommand.Parse(["starts", "--all"])).Message);
}
