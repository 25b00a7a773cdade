using Redox.Lab.Contracts.Console;

namespace Redox.Lab.Agent.Tests.Fakes;

/// <summary>Console-protocol lines as a kernel prints them.</summary>
public static class Markers
{
    public static string Stage(string name) => ConsoleMarkerParser.Format("stage", ("name", name));

    public static string End(string status) => ConsoleMarkerParser.Format("end", ("status", status), ("code", "0"));

    public static string Panic(string msg) => ConsoleMarkerParser.Format("finding", ("kind", "panic"), ("msg", msg));

    public static string[] PassingBoot => [Stage("entry"), "kernel: hello", Stage("kmain-done"), End("pass")];
}
