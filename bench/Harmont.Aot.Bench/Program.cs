using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Harmont.Aot.Bench -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
