// stencil-agent: the in-guest agent. The guest issue fills it in.
Console.Error.WriteLine("stencil-agent: not implemented yet");
return 1;
