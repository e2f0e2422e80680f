// The network plumbing's pure parts (command lines, iproute2 JSON readers, interface choice) are
// internal and tested directly.
[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Stencil.Runtime.Tests")]
