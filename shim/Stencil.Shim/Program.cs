// containerd-shim-stencil-v2: the entry point. The shim issue fills in start/delete/serve.
Console.Error.WriteLine("containerd-shim-stencil-v2: not implemented yet");
return 1;
