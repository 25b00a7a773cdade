using Redox.Lab.Agent;

// appsettings.json sits beside the binary; the working directory is where StateDir lives.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
builder.Services.AddAgent(builder.Configuration);
builder.Build().Run();
