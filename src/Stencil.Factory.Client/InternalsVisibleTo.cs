[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Stencil.Factory.Tests")]
