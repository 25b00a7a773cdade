namespace Redox.Lab.Contracts.Console;

/// <summary>
/// Turns a checked, tokenized marker into its typed record (PROTOCOL.md, "Types"): required keys
/// must be present and numbers must parse, or the marker is corrupt. Unknown types and keys are kept.
/// </summary>
internal static class MarkerBuilder
{
    // Finding keys the protocol defines as numbers: a value that does not parse makes the marker corrupt.
    private static readonly string[] FindingNumbers = ["rip", "addr", "frame", "order", "err", "cpu"];

    /// <summary>The typed marker, or null with <paramref name="error"/> set.</summary>
    public static Marker? Build(string type, Dictionary<string, string> values, out string? error)
    {
        var f = new FieldReader(type, values);
        Marker marker = type switch
        {
            "hello" => new HelloMarker((int)f.RequiredInt64("proto", 0, int.MaxValue), f.Text("kernel"), f.Text("version"), f.Text("variant"), values),
            "tsc" => new TscMarker(f.RequiredInt64("hz", 1), f.UInt64("base", required: true) ?? 0, values),
            "stage" => new StageMarker(f.Name("name"), f.UInt64("tsc", required: false), values),
            "metric" => new MetricMarker(f.Name("name"), f.Double("value"), f.Required("unit"), f.Int64("n", min: 0) ?? 1, f.Name("stat", "value"), values),
            "test" => new TestMarker(f.Name("name"), f.OneOf("result", "pass", "fail", "skip"), f.Text("detail"), values),
            "finding" => BuildFinding(f, values),
            "profile-begin" => new ProfileBeginMarker(f.Required("format"), values),
            "profile-end" => new ProfileEndMarker(f.RequiredInt64("lines", 0), f.Int64("samples", min: 0), f.Int64("dropped", min: 0), values),
            "machine" => new MachineMarker(f.Text("cpu"), f.Text("vendor"), f.Int64("family", min: 0), f.Int64("model", min: 0), f.Int64("stepping", min: 0), f.UInt64("microcode", required: false), values),
            "end" => new EndMarker(f.OneOf("status", "pass", "fail", "panic"), f.Int64("code"), values),
            _ => new UnknownMarker(type, values),
        };
        if (marker is ProfileBeginMarker)
        {
            f.Int64("hz", min: 1);
        }

        error = f.Error;
        return error is null ? marker : null;
    }

    private static FindingMarker BuildFinding(FieldReader f, Dictionary<string, string> values)
    {
        string kind = f.Name("kind");
        foreach (var key in FindingNumbers)
        {
            f.UInt64(key, required: false);
        }

        var backtrace = new List<ulong>();
        if (values.TryGetValue("bt", out var bt))
        {
            foreach (var range in bt.AsSpan().Split(','))
            {
                if (!MarkerSyntax.TryParseAddress(bt.AsSpan()[range], out ulong address))
                {
                    f.Fail($"finding: 'bt' entry '{bt[range]}' is not a hex address");
                    break;
                }

                backtrace.Add(address);
            }
        }

        return new FindingMarker(kind, backtrace, values);
    }

    /// <summary>Reads typed values, remembering the first problem instead of throwing.</summary>
    private sealed class FieldReader(string type, Dictionary<string, string> values)
    {
        public string? Error { get; private set; }

        public void Fail(string error) => Error ??= error;

        public string? Text(string key) => values.GetValueOrDefault(key);

        public string Required(string key)
        {
            if (values.TryGetValue(key, out var v))
            {
                return v;
            }

            Fail($"{type}: missing required key '{key}'");
            return "";
        }

        public string Name(string key, string? fallback = null)
        {
            string v = fallback is not null && !values.ContainsKey(key) ? fallback : Required(key);
            if (Error is null && !MarkerSyntax.IsName(v))
            {
                Fail($"{type}: '{key}' is not [a-z0-9_.-]+: '{v}'");
            }

            return v;
        }

        public string OneOf(string key, params string[] allowed)
        {
            string v = Required(key);
            if (Error is null && Array.IndexOf(allowed, v) < 0)
            {
                Fail($"{type}: '{key}' must be {string.Join(", ", allowed)}, not '{v}'");
            }

            return v;
        }

        public ulong? UInt64(string key, bool required)
        {
            if (!Present(key, required, out var s))
            {
                return null;
            }

            if (MarkerSyntax.TryParseUInt64(s, out ulong v))
            {
                return v;
            }

            Fail($"{type}: '{key}' is not an unsigned number: '{s}'");
            return null;
        }

        public long? Int64(string key, long min = long.MinValue, long max = long.MaxValue) =>
            Present(key, required: false, out var s) ? ParseInt64(key, s, min, max) : null;

        public long RequiredInt64(string key, long min, long max = long.MaxValue) =>
            Present(key, required: true, out var s) ? ParseInt64(key, s, min, max) ?? 0 : 0;

        private long? ParseInt64(string key, string s, long min, long max)
        {
            if (MarkerSyntax.TryParseInt64(s, out long v) && v >= min && v <= max)
            {
                return v;
            }

            Fail($"{type}: '{key}' is not a number in range: '{s}'");
            return null;
        }

        public double Double(string key)
        {
            if (!Present(key, required: true, out var s))
            {
                return 0;
            }

            if (MarkerSyntax.TryParseDouble(s, out double v))
            {
                return v;
            }

            Fail($"{type}: '{key}' is not a decimal number: '{s}'");
            return 0;
        }

        private bool Present(string key, bool required, out string s)
        {
            if (values.TryGetValue(key, out var v))
            {
                s = v;
                return true;
            }

            if (required)
            {
                Fail($"{type}: missing required key '{key}'");
            }

            s = "";
            return false;
        }
    }
}
