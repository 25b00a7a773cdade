namespace Redox.Lab.Agent;

/// <summary>The agent's configuration, section <c>Agent</c> (README.md lists the keys).</summary>
public sealed class AgentOptions
{
    public const string Section = "Agent";

    /// <summary>Base URL of the lab server, e.g. <c>http://127.0.0.1:5080</c>.</summary>
    public string Server { get; set; } = "";

    /// <summary>The agent's name at the server; an agent that enrols again under the same name stays the same agent.</summary>
    public string Name { get; set; } = Environment.MachineName;

    /// <summary>The lab's enrolment secret; needed only until a token is saved (and again when the server voids it). Prefer <see cref="EnrolmentSecretFile"/>.</summary>
    public string? EnrolmentSecret { get; set; }

    /// <summary>A file holding the enrolment secret (mode 600; systemd's LoadCredential, a compose secret); read when the agent enrols.</summary>
    public string? EnrolmentSecretFile { get; set; }

    /// <summary>Token files, the repository mirrors and the per-job work directories live here.</summary>
    public string StateDir { get; set; } = "./.lab/agent";

    /// <summary>Seconds the server may hold a job poll open.</summary>
    public int PollWaitSeconds { get; set; } = 30;

    /// <summary>How long a stopping agent still tries to upload the console and complete a running job as infra-error.</summary>
    public TimeSpan ShutdownGrace { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a job that ended waits, holding its machine and heartbeating, for the server to take its spooled
    /// results (Server/SPOOL.md) before it hands them to the background drain and frees the machine.
    /// </summary>
    public TimeSpan SpoolHold { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Keep <c>StateDir/work/&lt;job&gt;</c> after a job, for debugging the lab.</summary>
    public bool KeepWorkDirs { get; set; }

    /// <summary>The bench of real PCs: a YAML file (Machines/MACHINES.md), validated at start. Relative to the working directory.</summary>
    public string? MachinesFile { get; set; }

    /// <summary>How builds are confined (<c>Agent:Sandbox</c>, Build/SANDBOX.md).</summary>
    public Build.SandboxOptions Sandbox { get; set; } = new();

    /// <summary>The machines this agent boots kernels on; empty means one QEMU machine, <c>qemu-0</c> (none when a machines file is given).</summary>
    public List<MachineOptions> Machines { get; set; } = [];

    public Uri ServerUri => new(Server.EndsWith('/') ? Server : Server + "/", UriKind.Absolute);

    public string StatePath => Path.GetFullPath(StateDir);

    public string WorkRoot => Path.Combine(StatePath, "work");

    public string RepoRoot => Path.Combine(StatePath, "repos");

    /// <summary>The configured machines with defaults applied (the binder appends to list defaults, so defaults are filled in here).</summary>
    public IReadOnlyList<MachineOptions> EffectiveMachines()
    {
        if (Machines.Count == 0)
            return [new MachineOptions { Name = "qemu-0", Tags = ["qemu", "x86_64"] }];
        return Machines;
    }
}

/// <summary>One machine the agent drives.</summary>
public sealed class MachineOptions
{
    public string Name { get; set; } = "";

    /// <summary>The driver kind: <c>qemu</c> (later <c>pxe</c>).</summary>
    public string Driver { get; set; } = "qemu";

    public List<string> Tags { get; set; } = [];

    /// <summary>CPUs; for simulated machines the pipeline's <c>boot.machine.cpus</c> wins.</summary>
    public int Cpus { get; set; } = 1;

    /// <summary>Memory; for simulated machines the pipeline's <c>boot.machine.memory</c> wins.</summary>
    public int MemoryMiB { get; set; } = 256;

    /// <summary>QEMU: the emulator binary.</summary>
    public string QemuPath { get; set; } = "qemu-system-x86_64";

    /// <summary>QEMU: the <c>-cpu</c> model (<c>max</c> works under TCG and KVM).</summary>
    public string QemuCpu { get; set; } = "max";

    /// <summary>QEMU: the <c>-accel</c> value; empty means <c>tcg</c> (KVM only when asked for: see Machines/README.md).</summary>
    public string? QemuAccel { get; set; }

    /// <summary>QEMU: the UEFI firmware code for <c>boot.method: disk-uefi</c> (Debian's <c>ovmf</c>), read-only.</summary>
    public string OvmfCode { get; set; } = "/usr/share/OVMF/OVMF_CODE_4M.fd";

    /// <summary>QEMU: the UEFI variable store template; each boot gets its own copy.</summary>
    public string OvmfVars { get; set; } = "/usr/share/OVMF/OVMF_VARS_4M.fd";

    /// <summary>Extra arguments appended to the driver's command line (QEMU: after the agent's own).</summary>
    public List<string> ExtraArgs { get; set; } = [];
}
