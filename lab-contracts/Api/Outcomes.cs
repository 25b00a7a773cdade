namespace Redox.Lab.Contracts.Api;

/// <summary>How a boot or a job ended. Stored as its lower-case kebab name (see <see cref="OutcomeNames"/>).</summary>
public enum Outcome
{
    /// <summary>Not finished yet.</summary>
    Pending = 0,
    /// <summary>The kernel reached its end marker (or success regex) with every test passing.</summary>
    Passed,
    /// <summary>The kernel ended, but a test failed or the end marker said fail.</summary>
    TestFailed,
    /// <summary>The kernel panicked or took an unhandled exception.</summary>
    KernelPanic,
    /// <summary>The boot timeout passed with readable output but no end.</summary>
    BootTimeout,
    /// <summary>Not one byte arrived on the console.</summary>
    NoOutput,
    /// <summary>Bytes arrived, but nothing readable.</summary>
    Garbage,
    /// <summary>The pipeline's build commands failed or did not produce the artifacts.</summary>
    BuildFailed,
    /// <summary>The job as a whole ran past its timeout.</summary>
    JobTimeout,
    /// <summary>The lab failed (git, machine power, QEMU missing): not the kernel's fault; retried.</summary>
    InfraError,
    /// <summary>The agent stopped heartbeating while it held the job: not the kernel's fault; retried.</summary>
    AgentLost,
    /// <summary>Cancelled by a user.</summary>
    Cancelled,
    /// <summary>The machine reset (a triple fault, or the kernel rebooted) before the boot ended.</summary>
    MachineReset,
    /// <summary>
    /// The push could not become jobs: unknown branch or commit, a pipeline file missing or malformed, a repository
    /// that cannot be read or did not answer in time. The run's detail says which. Set by the background resolution
    /// (Runs/ResolvePushJob), never on a job.
    /// </summary>
    Error,
}

/// <summary>Whose fault an outcome is.</summary>
public enum OutcomeKind
{
    /// <summary>Still running.</summary>
    Pending,
    /// <summary>The kernel did what it should.</summary>
    Success,
    /// <summary>The commit under test is at fault (build, panic, hang, tests).</summary>
    Kernel,
    /// <summary>The lab is at fault (agent, machine, network).</summary>
    Infrastructure,
    /// <summary>Nobody's fault: a user cancelled.</summary>
    Cancelled,
}

/// <summary>Names and classification of <see cref="Outcome"/>.</summary>
public static class OutcomeNames
{
    private static readonly Dictionary<Outcome, string> Names = new()
    {
        [Outcome.Pending] = "pending",
        [Outcome.Passed] = "passed",
        [Outcome.TestFailed] = "test-failed",
        [Outcome.KernelPanic] = "kernel-panic",
        [Outcome.BootTimeout] = "boot-timeout",
        [Outcome.NoOutput] = "no-output",
        [Outcome.Garbage] = "garbage",
        [Outcome.BuildFailed] = "build-failed",
        [Outcome.JobTimeout] = "job-timeout",
        [Outcome.InfraError] = "infra-error",
        [Outcome.AgentLost] = "agent-lost",
        [Outcome.Cancelled] = "cancelled",
        [Outcome.MachineReset] = "machine-reset",
        [Outcome.Error] = "error",
    };

    private static readonly Dictionary<string, Outcome> ByName =
        Names.ToDictionary(kv => kv.Value, kv => kv.Key, StringComparer.Ordinal);

    /// <summary>The stored name, e.g. <c>kernel-panic</c>.</summary>
    public static string ToName(this Outcome outcome) => Names[outcome];

    /// <summary>Parses a stored name; false for an unknown one.</summary>
    public static bool TryParse(string name, out Outcome outcome) => ByName.TryGetValue(name, out outcome);

    /// <summary>Whose fault the outcome is.</summary>
    public static OutcomeKind Kind(this Outcome outcome) => outcome switch
    {
        Outcome.Pending => OutcomeKind.Pending,
        Outcome.Passed => OutcomeKind.Success,
        Outcome.InfraError or Outcome.AgentLost => OutcomeKind.Infrastructure,
        Outcome.Cancelled => OutcomeKind.Cancelled,
        _ => OutcomeKind.Kernel,
    };

    /// <summary>
    /// The worse of two outcomes, for rolling boots up into a job and jobs into a run:
    /// a panic outranks a failed test, which outranks a pass.
    /// </summary>
    public static Outcome Worst(Outcome a, Outcome b) => Severity(a) >= Severity(b) ? a : b;

    private static int Severity(Outcome o) => o switch
    {
        Outcome.Passed => 0,
        Outcome.Cancelled => 1,
        Outcome.TestFailed => 2,
        Outcome.BootTimeout => 3,
        Outcome.MachineReset => 4,
        Outcome.NoOutput => 5,
        Outcome.Garbage => 6,
        Outcome.JobTimeout => 7,
        Outcome.BuildFailed => 8,
        Outcome.Error => 8,
        Outcome.KernelPanic => 9,
        Outcome.InfraError => 10,
        Outcome.AgentLost => 11,
        Outcome.Pending => 12,
        _ => 12,
    };
}
