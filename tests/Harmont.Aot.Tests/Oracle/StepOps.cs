namespace Harmont.Aot.Tests.Oracle;

/// <summary>
/// Generates one step operation (POSIX sh that busybox runs too) and what it touches: modify, delete,
/// create, chmod and rename files, tracked or not; swap a directory and a file; make relative, absolute
/// and dangling links; print files and listings; write <c>$PWD</c>.
/// </summary>
internal static class StepOps
{
    private static readonly string[] Modes = ["755", "644", "600", "700"];

    public static OpSpec Next(Random rng, SimTree tree, Names names, string step, bool pwdSteps)
    {
        var files = tree.Files;
        var dirs = tree.Directories;
        var text = $"{step}-{names.Next("t")}";
        var roll = rng.Next(19);

        // Ops that need a file or a directory fall through to creating one when there is none.
        if (files.Count == 0 && roll < 13)
        {
            roll = 13;
        }

        if (dirs.Count == 0 && roll is 15 or 16 or 17)
        {
            roll = 13;
        }

        var file = files.Count > 0 ? files[rng.Next(files.Count)] : "";
        var dir = dirs.Count > 0 ? dirs[rng.Next(dirs.Count)] : "";
        var anyDir = rng.Next(3) == 0 || dirs.Count == 0 ? "" : dirs[rng.Next(dirs.Count)];
        switch (roll)
        {
            case 0 or 1:
                return Op($"echo {text} >> {file}", file);
            case 2:
                return Op($"echo {text} > {file}", file);
            case 3:
                tree.Remove(file);
                return Op($"rm -f {file}", file);
            case 4:
                return Op($"chmod {Modes[rng.Next(Modes.Length)]} {file}", file);
            case 5:
            {
                var to = ScenarioGenerator.Join(anyDir, names.Next("mv"));
                tree.Move(file, to);
                return Op($"mv {file} {to}", file, to, Within(anyDir));
            }

            case 6:
            {
                var to = ScenarioGenerator.Join(anyDir, names.Next("cp"));
                tree.AddFile(to);
                return Op($"cp {file} {to}", file, to, Within(anyDir));
            }

            case 7:
                tree.Remove(file);
                tree.AddFile(file + "/inner");
                return Op($"rm -f {file} && mkdir {file} && echo {text} > {file}/inner", file);
            case 8:
            {
                // A tracked file becomes a link to another file, by a relative path.
                var target = files[rng.Next(files.Count)];
                tree.Remove(file);
                tree.AddLink(file);
                return Op($"rm -f {file} && ln -s {Relative(file, target)} {file}", file);
            }

            case 9 or 10:
                return Op($"cat {file}", file);
            case 11:
            {
                var other = files[rng.Next(files.Count)];
                var to = ScenarioGenerator.Join(anyDir, names.Next("cat") + ".out");
                tree.AddFile(to);
                return Op($"cat {file} {other} > {to}", file, other, to, Within(anyDir));
            }

            case 12:
            {
                // Relative or absolute, to something or to nothing: a venv's bin/python, a tracked link to /etc.
                // One draw as before, so every other seed's scenario stays what it was.
                var link = ScenarioGenerator.Join(anyDir, names.Next("ln"));
                var target = rng.Next(4) switch
                {
                    0 => names.Next("missing"),
                    1 => Relative(link, file),
                    2 => "/etc",
                    _ => "/nowhere/" + names.Next("gone"),
                };
                tree.AddLink(link);
                return Op($"ln -s {target} {link}", link, Within(anyDir));
            }

            case 13:
            {
                var newDir = rng.Next(2) == 0 ? anyDir : ScenarioGenerator.Join(names.Next("g"), rng.Next(2) == 0 ? "" : "sub");
                newDir = newDir.TrimEnd('/');
                var to = ScenarioGenerator.Join(newDir, names.Next("o") + ".out");
                tree.AddFile(to);
                var mkdir = newDir.Length == 0 ? "" : $"mkdir -p {newDir} && ";
                return Op($"{mkdir}echo {text} > {to}", to);
            }

            case 14:
            {
                var to = names.Next("pwd") + ".txt";
                tree.AddFile(to);
                return Op(pwdSteps ? $"echo \"$PWD\" > {to}" : $"echo no-pwd > {to}", to);
            }

            case 15:
                tree.Remove(dir);
                tree.AddFile(dir);
                return Op($"rm -rf {dir} && echo {text} > {dir}", dir);
            case 16:
                tree.Remove(dir);
                tree.AddFile(dir + "/back");
                return Op($"rm -rf {dir} && echo {text} > {dir} && rm -f {dir} && mkdir {dir} && echo {text} > {dir}/back", dir);
            case 17:
                return rng.Next(2) == 0 ? Op($"ls {dir}", dir) : Op($"chmod 700 {dir}", dir);
            default:
                if (dirs.Count > 0 && rng.Next(3) == 0)
                {
                    tree.Remove(dir);
                    return Op($"rm -rf {dir}", dir);
                }

                var d = names.Next("dir");
                tree.AddDirectory(d);
                return Op($"mkdir -p {d}/a/b && chmod 750 {d}/a", d);
        }
    }

    /// <summary>The path from the directory holding <paramref name="link"/> to <paramref name="target"/>.</summary>
    private static string Relative(string link, string target)
    {
        var depth = link.Count(c => c == '/');
        return string.Concat(Enumerable.Repeat("../", depth)) + target;
    }

    private static OpSpec Op(string shell, params string[] touches) => new(shell, [.. touches.Where(t => t.Length > 0)]);

    // A step that writes into an existing directory depends on it existing: an edit that removes the
    // directory's last source file changes what the step does, so it must count as touching it (seed 100071).
    private static string Within(string directory) => directory.TrimEnd('/');
}
