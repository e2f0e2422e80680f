namespace Stencil.Guest.Tests;

/// <summary>One line of the guest's serial console and when the host read it, from QEMU's start.</summary>
internal readonly record struct ConsoleLine(TimeSpan At, string Text);
