using System.Runtime.Versioning;

namespace Harmont.Aot.Tests.Oracle;

/// <summary>The scenario's git repository on disk: created once, then edited before each run.</summary>
[SupportedOSPlatform("linux")]
internal sealed class ScenarioRepo(string root, CancellationToken cancellationToken)
{
    private const UnixFileMode Plain = (UnixFileMode)0b110_100_100;
    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;

    public async Task CreateAsync(IReadOnlyList<FileSpec> files)
    {
        foreach (var file in files)
        {
            Write(file.Path, file.Content, file.Executable);
        }

        await GitAsync("init", "-q");
        if (files.Any(f => f.Tracked))
        {
            await GitAsync(["add", "--", .. files.Where(f => f.Tracked).Select(f => f.Path)]);
        }

        await GitAsync("-c", "user.name=oracle", "-c", "user.email=oracle@localhost", "commit", "-q", "--allow-empty", "-m", "initial");
    }

    public async Task ApplyAsync(RoundSpec round, int index)
    {
        foreach (var edit in round.Edits)
        {
            var path = Path.Combine(root, edit.Path);
            switch (edit.Kind)
            {
                case EditKind.Modify:
                    File.WriteAllText(path, edit.Content);
                    break;
                case EditKind.Add:
                    Write(edit.Path, edit.Content, edit.Executable);
                    break;
                case EditKind.Delete:
                    File.Delete(path);
                    break;
                case EditKind.Chmod:
                    File.SetUnixFileMode(path, edit.Executable ? Executable : Plain);
                    break;
            }
        }

        if (index > 0 && round.Commit != CommitMode.None)
        {
            await GitAsync("add", "-A");
            if (round.Commit == CommitMode.Commit)
            {
                await GitAsync("-c", "user.name=oracle", "-c", "user.email=oracle@localhost", "commit", "-q", "--allow-empty", "-m", $"round {index}");
            }
        }
    }

    private void Write(string relative, string content, bool executable)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        File.SetUnixFileMode(path, executable ? Executable : Plain);
    }

    private Task GitAsync(params string[] args) => GitAsync((IEnumerable<string>)args);

    private async Task GitAsync(IEnumerable<string> args)
    {
        var list = args.ToList();
        var (exitCode, output) = await Exec.RunAsync("git", list, root, cancellationToken);
        if (exitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', list)} failed ({exitCode}): {output}");
        }
    }
}
