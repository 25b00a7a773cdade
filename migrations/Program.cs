namespace Redox.Lab.Migrations;

/// <summary>
/// The migrate command: creates the lab database if it is missing and applies every migration.
/// <code>
/// dotnet run --project migrations -- --connection "Host=127.0.0.1;Port=55432;Username=lab;Database=lab"
/// ConnectionStrings__Lab="..." dotnet run --project migrations
/// dotnet run --project migrations -- create-token --user admin --role admin --out .lab/admin-token
/// printf '%s\n' "$cs" | dotnet run --project migrations -- --connection-file -      (a string with a password: never on a command line)
/// printf '%s\n' "$cs" | dotnet run --project migrations -- passfile --out lab-db.pgpass  (prints the string naming the file instead)
/// </code>
/// </summary>
internal static class MigrateProgram
{
    public static Task<int> Main(string[] args) => args.FirstOrDefault() switch
    {
        CreateTokenCommand.Name => CreateTokenCommand.RunAsync(args[1..], Console.Out, Console.Error),
        PassfileCommand.Name => PassfileCommand.RunAsync(args[1..], Console.In, Console.Out, Console.Error),
        _ => MigrateCommand.RunAsync(args, Console.Out, Console.Error),
    };
}
