namespace Redox.Lab.Dashboard.Pages.Profiles;

/// <summary>
/// Flamegraphs and differential flamegraphs (<c>/profiles/flamegraph</c>, <c>/profiles/diff</c>) of profile references
/// (<c>boot:JOB:INDEX</c>, <c>job:JOB</c>, <c>run:RUN:VARIANT</c>, <c>candidate:RUN:VARIANT</c>, <c>baseline:RUN:VARIANT</c>,
/// <c>import:ID</c>). Implemented by lab-server's
/// <c>Dashboard/ProfileViewQuery</c>; the tree JSON is lab-server/Profiles/FLAMEGRAPH.md's.
/// </summary>
public interface IProfileViewQuery
{
    /// <summary>Null when the reference names no profile; <see cref="FormatException"/> when it is not a reference.</summary>
    Task<FlameModel?> FlameAsync(string reference, CancellationToken ct);

    Task<DiffModel?> DiffAsync(string baseReference, string headReference, CancellationToken ct);
}

public sealed record FlameModel(string Reference, int Profiles, long Samples, string TreeJson);

public sealed record DiffRow(string Name, double BaseSelf, double HeadSelf, double BaseTotal, double HeadTotal, double? P, double? AdjustedP, bool Significant);

public sealed record DiffModel(
    string Base, string Head, int BaseProfiles, int HeadProfiles, long BaseSamples, long HeadSamples,
    string Method, int FramesTested, string TreeJson, IReadOnlyList<DiffRow> Rows);
