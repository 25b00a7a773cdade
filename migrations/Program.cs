namespace Redox.Lab.Migrations;

/// <summary>
/// The migrate command: creates the lab database if it is missing and applies every migration.
/// <code>
/// dotnet run --project migrations -- --connection "Host=127.0.0.1;Port=55432;Username=lab;Database=lab"
/// ConnectionStrings__Lab="..." dotnet run --project migrations
/// </code>
/// </summary>
internal static class MigrateProgram
{
    public static Task<int> Main(string[] args) => MigrateCommand.RunAsync(args, Console.Out, Console.Error);
}
