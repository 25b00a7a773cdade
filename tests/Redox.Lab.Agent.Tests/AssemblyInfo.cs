// The agent drives QEMU, sh and git: its tests run on Linux only.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
