using Redox.Lab.Contracts.Api;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>Pipeline files and job assignments for tests.</summary>
public static class Pipelines
{
    public static string Yaml(
        string build = "mkdir -p out && printf 'kernel' > out/kernel.bin",
        string image = "out/kernel.bin",
        string? elf = null,
        int boots = 1,
        string bootTimeout = "60s",
        string jobTimeout = "20m",
        string buildTimeout = "30m") => $"""
        name: test
        build:
          commands:
            - "{build.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}"
          artifacts:
            image: {image}{(elf is null ? "" : $"\n    elf: {elf}")}
          timeout: {buildTimeout}
        boot:
          count: {boots}
          timeout: {bootTimeout}
          machine:
            tags: [qemu]
            cpus: 2
            memory: 128M
        job:
          timeout: {jobTimeout}
        console:
          panic: ['KERNEL PANIC']
        stages:
          - name: entry
            marker: entry
          - name: kmain-done
            marker: kmain-done
        """;

    public static JobAssignment Job(TestRepo repo, string yaml, string machine = "fake-0", int leaseSeconds = 30) =>
        new(Guid.NewGuid(), Guid.NewGuid(), repo.Path, repo.Commit, "pipelines/test.yaml", yaml, "default", machine, leaseSeconds);
}
