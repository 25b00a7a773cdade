using Redox.Lab.Cli;

// lab: push a branch to the lab, follow it, read results. `lab --help` lists the commands.
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    cancel.Cancel();
};
return await LabCommandLine.RunAsync(args, Console.Out, Console.Error, cancel.Token);
