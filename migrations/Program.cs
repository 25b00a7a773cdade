namespace Redox.Lab.Migrations;

/// <summary>
/// The migrate command: creates the lab database if it is missing and applies every migration.
/// <code>
/// dotnet run --project migrations -- --connection "Host=127.0.0.1;Port=55432;Username=lab;Database=lab"
/// ConnectionStrings__Lab="..." dotnet run --project migrations
/// dotnet run --project migrations -- create-token --user admin --role admin --out .lab/admin-token
/// </code>
/// </summary>
internal static class MigrateProgram
{
    public static Task<int> Main(string[] args) => args.FirstOrDefault() == CreateTokenCommand.Name
        ? CreateTokenCommand.RunAsync(args[1..], Console.Out, Console.Error)
        : MigrateCommand.RunAsync(args, Console.Out, Console.Error);
}
