namespace Redox.Lab.Agent.Machines;

/// <summary>
/// A machine that reports what the lab did for a boot (a retry, a breaker change, a console gap).
/// The boot that runs on the machine writes each event into the job's console as a <c>lab:</c> line,
/// so the job page shows it beside the kernel's output.
/// </summary>
public interface ILabEventSource
{
    event Action<string>? LabEvent;
}
