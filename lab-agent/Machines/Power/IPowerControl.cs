namespace Redox.Lab.Agent.Machines.Power;

/// <summary>
/// Switches one PC on and off. Every call may fail with <see cref="PowerException"/>, which the
/// <c>power</c> pipeline retries; callers go through <see cref="Pc.PcMachine"/>, never directly.
/// </summary>
public interface IPowerControl
{
    /// <summary>For logs and <c>lab-agent check</c>: "ipmi lanplus 10.0.0.9:623".</summary>
    string Describe { get; }

    /// <summary>Powers the PC on so that it network-boots (IPMI sets the boot device to PXE first); a PC that is on is cycled.</summary>
    Task PowerOnAsync(CancellationToken cancellationToken);

    /// <summary>Powers the PC off; a PC that is already off is no error.</summary>
    Task PowerOffAsync(CancellationToken cancellationToken);

    /// <summary>On, off, or unknown when the control cannot tell (Wake-on-LAN, manual).</summary>
    Task<PowerState> StatusAsync(CancellationToken cancellationToken);
}

public enum PowerState
{
    Unknown,
    On,
    Off,
}

/// <summary>The power control failed (BMC timed out, PDU answered 503, command failed): an infrastructure failure.</summary>
public sealed class PowerException(string message, Exception? inner = null) : Exception(message, inner);
