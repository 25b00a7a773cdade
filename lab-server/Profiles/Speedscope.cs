using System.Text.Json;

namespace Redox.Lab.Server.Profiles;

/// <summary>
/// Folded stacks as a speedscope file (https://www.speedscope.app/file-format-schema.json): one shared frame table
/// and one <c>sampled</c> profile whose samples are the distinct stacks (frame indices, root first) weighted by
/// their counts. speedscope, Firefox Profiler's importer and others read it.
/// </summary>
public static class Speedscope
{
    public const string Schema = "https://www.speedscope.app/file-format-schema.json";

    /// <summary>Writes <paramref name="folded"/> as a speedscope document named <paramref name="name"/>.</summary>
    public static void Write(Utf8JsonWriter json, string folded, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        var frames = new Dictionary<string, int>(StringComparer.Ordinal);
        var stacks = new List<(int[] Frames, long Count)>();
        long total = 0;
        foreach (var (names, count) in FoldedStacks.Parse(folded))
        {
            var ids = new int[names.Length];
            for (var i = 0; i < names.Length; i++)
            {
                if (!frames.TryGetValue(names[i], out var id))
                {
                    id = frames.Count;
                    frames[names[i]] = id;
                }
                ids[i] = id;
            }
            stacks.Add((ids, count));
            total += count;
        }

        json.WriteStartObject();
        json.WriteString("$schema", Schema);
        json.WriteString("name", name);
        json.WriteString("exporter", "redox-lab");
        json.WriteNumber("activeProfileIndex", 0);
        json.WriteStartObject("shared");
        json.WriteStartArray("frames");
        foreach (var frame in frames.OrderBy(f => f.Value))
        {
            json.WriteStartObject();
            json.WriteString("name", frame.Key);
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteStartArray("profiles");
        json.WriteStartObject();
        json.WriteString("type", "sampled");
        json.WriteString("name", name);
        json.WriteString("unit", "none");
        json.WriteNumber("startValue", 0);
        json.WriteNumber("endValue", total);
        json.WriteStartArray("samples");
        foreach (var (ids, _) in stacks)
        {
            json.WriteStartArray();
            foreach (var id in ids) json.WriteNumberValue(id);
            json.WriteEndArray();
        }
        json.WriteEndArray();
        json.WriteStartArray("weights");
        foreach (var (_, count) in stacks) json.WriteNumberValue(count);
        json.WriteEndArray();
        json.WriteEndObject();
        json.WriteEndArray();
        json.WriteEndObject();
    }

    public static byte[] ToBytes(string folded, string name)
    {
        using var stream = new MemoryStream();
        using (var json = new Utf8JsonWriter(stream)) Write(json, folded, name);
        return stream.ToArray();
    }
}
