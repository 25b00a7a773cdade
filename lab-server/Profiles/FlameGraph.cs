using System.Text.Json.Serialization;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// One frame of a flamegraph: <c>n</c> name, <c>v</c> samples with this frame on the stack at this path (its width),
/// <c>s</c> samples where it is the leaf, <c>c</c> its callees (sorted by name, as flamegraph.pl draws them).
/// The short names keep the JSON of a large profile small; the page's script reads them (see FLAMEGRAPH.md).
/// </summary>
public sealed class FlameNode
{
    [JsonPropertyName("n")] public string Name { get; init; } = "";
    [JsonPropertyName("v")] public long Total { get; set; }
    [JsonPropertyName("s")] public long Self { get; set; }
    [JsonPropertyName("c")] public List<FlameNode> Children { get; set; } = [];

    [JsonIgnore] private Dictionary<string, FlameNode>? _byName;

    internal FlameNode Child(string name)
    {
        _byName ??= [];
        if (!_byName.TryGetValue(name, out var child))
        {
            child = new FlameNode { Name = name };
            _byName[name] = child;
            Children.Add(child);
        }
        return child;
    }

    internal void Sort()
    {
        Children.Sort((a, b) => string.CompareOrdinal(a.Name, b.Name));
        foreach (var c in Children) c.Sort();
    }
}

/// <summary>Flamegraph trees from folded stacks.</summary>
public static class FlameGraphs
{
    /// <summary>The tree of <paramref name="folded"/> under a root named <paramref name="rootName"/> (its total: all samples).</summary>
    public static FlameNode Build(string folded, string rootName = "all")
    {
        var root = new FlameNode { Name = rootName };
        foreach (var (frames, count) in FoldedStacks.Parse(folded))
        {
            root.Total += count;
            var node = root;
            foreach (var frame in frames)
            {
                node = node.Child(frame);
                node.Total += count;
            }
            node.Self += count;
        }
        root.Sort();
        return root;
    }
}
