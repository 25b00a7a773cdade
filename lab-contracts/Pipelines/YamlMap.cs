using YamlDotNet.RepresentationModel;

namespace Redox.Lab.Contracts.Pipelines;

/// <summary>
/// One YAML mapping of a pipeline file, read with its dotted field path (<c>boot.machine</c>) so
/// that every error names the line, column and field at fault. Opening a mapping rejects keys it
/// does not know; a plain empty value, <c>~</c> or <c>null</c> counts as absent.
/// </summary>
internal sealed class YamlMap
{
    private readonly Dictionary<string, YamlNode> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, YamlNode> _keys = new(StringComparer.Ordinal);

    // Where "is required" errors point: the key that introduced this mapping, else the mapping itself.
    private YamlNode _anchor;

    private YamlMap(string file, string path, YamlMappingNode node)
    {
        File = file;
        Path = path;
        Node = node;
        _anchor = node;
    }

    public string File { get; }

    public string Path { get; }

    public YamlMappingNode Node { get; }

    /// <summary>Reads <paramref name="node"/> as a mapping with only the <paramref name="allowed"/> keys.</summary>
    public static YamlMap Open(string file, string path, YamlNode node, params string[] allowed)
    {
        if (node is not YamlMappingNode mapping)
        {
            throw Fail(file, node, path, $"expected a mapping of {string.Join(", ", allowed)}, found {Describe(node)}");
        }

        var map = new YamlMap(file, path, mapping);
        foreach (var (keyNode, value) in mapping.Children)
        {
            string field = map.FieldPath(keyNode is YamlScalarNode s ? s.Value ?? "" : "?");
            if (keyNode is not YamlScalarNode { Value: { } key })
            {
                throw Fail(file, keyNode, field, $"a key must be plain text, found {Describe(keyNode)}");
            }

            if (Array.IndexOf(allowed, key) < 0)
            {
                throw Fail(file, keyNode, field, $"unknown key '{key}' (expected one of: {string.Join(", ", allowed)})");
            }

            map._keys[key] = keyNode;
            if (!IsNull(value))
            {
                map._values[key] = value;
            }
        }

        return map;
    }

    public string FieldPath(string key) => Path.Length == 0 ? key : $"{Path}.{key}";

    /// <summary>The value's node, or null when the key is absent or null.</summary>
    public YamlNode? Get(string key) => _values.GetValueOrDefault(key);

    /// <summary>A nested mapping, or null when absent.</summary>
    public YamlMap? Map(string key, params string[] allowed)
    {
        if (Get(key) is not { } node)
        {
            return null;
        }

        var map = Open(File, FieldPath(key), node, allowed);
        map._anchor = _keys[key];
        return map;
    }

    /// <summary>A text value, or null when absent; a list or mapping is an error.</summary>
    public string? Text(string key) => Get(key) is { } node ? Scalar(File, node, FieldPath(key)) : null;

    public string RequiredText(string key) => Text(key) ?? throw Missing(key);

    /// <summary>Text that must be present, non-empty and match the given rule.</summary>
    public string Checked(string key, Func<string, bool> valid, string rule)
    {
        string text = RequiredText(key);
        return valid(text) ? text : throw Fail(Get(key)!, key, $"'{text}' is not {rule}");
    }

    /// <summary>The items of a list with their paths (<c>stages[2]</c>); empty when absent.</summary>
    public IReadOnlyList<(YamlNode Node, string Path)> List(string key)
    {
        if (Get(key) is not { } node)
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            throw Fail(node, key, $"expected a list, found {Describe(node)}");
        }

        return list.Children.Select((item, i) => (item, $"{FieldPath(key)}[{i}]")).ToList();
    }

    /// <summary>A list of text values; empty when absent.</summary>
    public List<string> TextList(string key) =>
        List(key).Select(item => IsNull(item.Node) ? throw Fail(File, item.Node, item.Path, "is empty") : Scalar(File, item.Node, item.Path)).ToList();

    /// <summary>A value parsed by <paramref name="parse"/> (null for text that is not one), or <paramref name="fallback"/> when absent.</summary>
    public T Parsed<T>(string key, T fallback, Func<string, T?> parse, string what)
        where T : struct
    {
        if (Text(key) is not { } text)
        {
            return fallback;
        }

        return parse(text) ?? throw Fail(Get(key)!, key, $"'{text}' is not {what}");
    }

    /// <summary>The error for a required key that is absent (or null: then it points at the key).</summary>
    public PipelineException Missing(string key) => Fail(File, _keys.GetValueOrDefault(key) ?? _anchor, FieldPath(key), "is required");

    public PipelineException Fail(YamlNode node, string key, string problem) => Fail(File, node, FieldPath(key), problem);

    public static PipelineException Fail(string file, YamlNode node, string field, string problem) =>
        new(file, (int)node.Start.Line, (int)node.Start.Column, field, problem);

    public static string Scalar(string file, YamlNode node, string field) => node is YamlScalarNode scalar
        ? scalar.Value ?? ""
        : throw Fail(file, node, field, $"expected a value, found {Describe(node)}");

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: YamlDotNet.Core.ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" };

    private static string Describe(YamlNode node) => node switch
    {
        YamlMappingNode => "a mapping",
        YamlSequenceNode => "a list",
        YamlScalarNode s => $"'{s.Value}'",
        _ => "something else",
    };
}
