using Redox.Lab.Cli;

// lab-cli: push a branch to the lab and read results. `lab-cli help` lists the commands.
return await CliCommands.RunAsync(args, Console.Out, Console.Error);
