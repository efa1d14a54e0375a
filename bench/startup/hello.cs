// The floor for startup: a native-AOT hello world, published the same way as a pipeline.
Console.WriteLine("hello");
