// The lab runs its machines, PostgreSQL and git on Linux.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
