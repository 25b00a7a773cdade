using System.Text;

namespace Redox.Lab.Contracts.Console;

/// <summary>
/// Collects the text lines between <c>profile-begin</c> and <c>profile-end</c>. Profile lines carry
/// no checksum of their own; the line count in <c>profile-end</c> is their only check, so a
/// profile whose count disagrees is dropped and a note says why.
/// </summary>
internal sealed class ProfileCollector
{
    private StringBuilder? _current;
    private long _currentLines;
    private StringBuilder? _done;

    /// <summary>True between a profile-begin and its profile-end.</summary>
    public bool Active => _current is not null;

    private List<string> Problems { get; } = [];

    /// <summary>Every complete, consistent profile of the boot, one after the other; null when none.</summary>
    public string? Text => _done?.ToString();

    public void Begin()
    {
        if (Active)
        {
            Problems.Add($"profile dropped: profile-begin again after {_currentLines} lines");
        }

        _current = new StringBuilder();
        _currentLines = 0;
    }

    public void Add(string line)
    {
        _current!.Append(line).Append('\n');
        _currentLines++;
    }

    public void End(ProfileEndMarker end)
    {
        if (!Active)
        {
            Problems.Add("profile-end without profile-begin");
            return;
        }

        if (end.Lines != _currentLines)
        {
            Problems.Add($"profile corrupt: {_currentLines} lines arrived, profile-end says {end.Lines}");
        }
        else
        {
            (_done ??= new StringBuilder()).Append(_current);
        }

        _current = null;
    }

    /// <summary>The problems as of now, counting a profile still open as incomplete (the boot ended inside it).</summary>
    public IEnumerable<string> ProblemsAtEnd() => Active
        ? Problems.Append($"profile incomplete: no profile-end after {_currentLines} lines")
        : Problems;
}
