using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Redox.Lab.Contracts.Api;
using Redox.Lab.Server.Artifacts;
using Redox.Lab.Server.Tests.Support;

namespace Redox.Lab.Server.Tests.Artifacts;

[Collection(LabCollection.Name)]
public sealed class ArtifactsApiTests(LabFixture lab)
{
    internal static async Task<(HttpClient Agent, JobAssignment Job)> ClaimedJobAsync(LabFixture lab, string prefix, int boots = 2)
    {
        var tag = "t" + Guid.NewGuid().ToString("N")[..8];
        var (_, agent) = await lab.EnrolAsync($"{prefix}-{tag}", ["x86_64", tag]);
        // Several boots per job (the profile tests report boots past 0; the server refuses indices past boot.count).
        await lab.PushAsync(await lab.RepoWithPipelineAsync(Repo.ReferencePipelineWithTag(tag).Replace("  count: 1\n", $"  count: {boots}\n", StringComparison.Ordinal)));
        return (agent, (await LabFixture.NextJobAsync(agent, 10))!);
    }

    /// <summary>
    /// Uploads as the agent should: with <c>Expect: 100-continue</c>, so a refused upload (413, 409) is answered
    /// before the body is sent instead of the server closing the connection under a body it will not read.
    /// </summary>
    internal static async Task<HttpResponseMessage> PutAsync(HttpClient agent, Guid jobId, string name, byte[] content)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/agent/jobs/{jobId}/artifacts/{name}")
        {
            Content = new ByteArrayContent(content),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Headers.ExpectContinue = true;
        return await agent.SendAsync(request);
    }

    [Fact]
    public async Task Put_SameNameTwice_ReplacesAndDownloadsTheLatest()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "art");
        byte[] first = [1, 2, 3], second = [.. Enumerable.Range(0, 100_000).Select(i => (byte)i)];

        var put1 = await PutAsync(agent, job.JobId, "blob.bin", first);
        var put2 = await PutAsync(agent, job.JobId, "blob.bin", second);
        var again = await PutAsync(agent, job.JobId, "blob.bin", second);

        Assert.Equal(HttpStatusCode.OK, put1.StatusCode);
        Assert.Equal(HttpStatusCode.OK, put2.StatusCode);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        var info = (await put2.Content.ReadFromJsonAsync<ArtifactInfo>(LabFixture.Json))!;
        Assert.Equal(new ArtifactInfo("blob.bin", second.Length, Convert.ToHexStringLower(SHA256.HashData(second)), info.CreatedAt), info);
        using var client = lab.Client();
        var download = await client.GetAsync($"/api/jobs/{job.JobId}/artifacts/blob.bin");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(second, await download.Content.ReadAsByteArrayAsync());
        Assert.Equal($"\"{info.Sha256}\"", download.Headers.ETag?.Tag);
        var list = (await client.GetFromJsonAsync<List<ArtifactInfo>>($"/api/jobs/{job.JobId}/artifacts", LabFixture.Json))!;
        Assert.Equal("blob.bin", Assert.Single(list).Name);
        Assert.Equal(second.Length, list[0].Size);
    }

    [Fact]
    public async Task Put_KernelElfThatGivesNoSymbols_Returns400SayingWhyAndStoresNothing()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "unusable");

        var response = await PutAsync(agent, job.JobId, "kernel.elf", [0x7f, (byte)'E', (byte)'L', (byte)'F', 2, 1, 1, 0]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("kernel.elf is not a readable ELF file: file too short", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        using var client = lab.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.JobId}/artifacts/kernel.elf")).StatusCode);
    }

    [Fact]
    public async Task Put_LargerThan64MiB_Returns413AndStoresNothing()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "big");

        var response = await PutAsync(agent, job.JobId, "kernel.elf", new byte[ArtifactStore.MaxBytes + 1]);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var client = lab.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.JobId}/artifacts/kernel.elf")).StatusCode);
    }

    [Fact]
    public async Task Put_Exactly64MiB_IsStored()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "max");

        var response = await PutAsync(agent, job.JobId, "big.bin", new byte[ArtifactStore.MaxBytes]);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(ArtifactStore.MaxBytes, (await response.Content.ReadFromJsonAsync<ArtifactInfo>(LabFixture.Json))!.Size);
    }

    [Fact]
    public async Task Put_OtherAgentsJob_Returns409()
    {
        var (_, job) = await ClaimedJobAsync(lab, "own");
        var (_, stranger) = await lab.EnrolAsync("stranger-" + Guid.NewGuid().ToString("N")[..8], ["none"]);

        var response = await PutAsync(stranger, job.JobId, "kernel.elf", [1]);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        using var client = lab.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.JobId}/artifacts/kernel.elf")).StatusCode);
    }

    [Fact]
    public async Task Put_WithoutToken_Returns401()
    {
        var (_, job) = await ClaimedJobAsync(lab, "anon");
        using var anonymous = lab.Client();

        var response = await PutAsync(anonymous, job.JobId, "kernel.elf", [1]);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Theory]
    [InlineData("Kernel.elf")]
    [InlineData("kernel%20elf")]
    [InlineData("...")]
    public async Task Put_InvalidName_Returns400(string name)
    {
        var (agent, job) = await ClaimedJobAsync(lab, "name");

        var response = await PutAsync(agent, job.JobId, name, [1]);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }

    [Fact]
    public async Task Put_UnknownJob_Returns404()
    {
        var (agent, _) = await ClaimedJobAsync(lab, "unknown");

        var response = await PutAsync(agent, Guid.NewGuid(), "kernel.elf", [1]);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task Get_RangeRequest_Returns206WithThoseBytes()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "range");
        byte[] content = [.. Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7))];
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(agent, job.JobId, "disk.img", content)).StatusCode);
        using var client = lab.Client();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/jobs/{job.JobId}/artifacts/disk.img");
        request.Headers.Range = new RangeHeaderValue(1000, 1999);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(content[1000..2000], await response.Content.ReadAsByteArrayAsync());
        Assert.Equal("bytes", Assert.Single(response.Headers.AcceptRanges));
        Assert.Equal(10_000, response.Content.Headers.ContentRange?.Length);
    }

    [Fact]
    public async Task PutAndGet_32MiB_StreamedOnDiskNotBufferedWhole()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "stream");
        var size = 32 * 1024 * 1024;
        var content = new byte[size];
        new Random(10).NextBytes(content);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(agent, job.JobId, "rootfs.img", content)).StatusCode);
        var sha = Convert.ToHexStringLower(SHA256.HashData(content));
        var files = Path.Combine(lab.TempDir, "server", "artifacts");
        Assert.True(File.Exists(Path.Combine(files, sha[..2], sha)), "the content is not on disk under its hash");
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(files, "tmp")));
        using var client = lab.Client();

        // The server runs in this process: what it allocates while serving shows in the process's total. A server
        // that read the artifact whole would allocate at least its size; streaming from disk allocates buffers.
        var before = GC.GetTotalAllocatedBytes(precise: true);
        using var response = await client.GetAsync($"/api/jobs/{job.JobId}/artifacts/rootfs.img", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[81920];
        int read;
        while ((read = await body.ReadAsync(buffer)) > 0) hash.AppendData(buffer, 0, read);
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(sha, Convert.ToHexStringLower(hash.GetHashAndReset()));
        Assert.True(allocated < size / 2, $"serving a {size}-byte artifact allocated {allocated} bytes");
    }

    [Fact]
    public async Task Put_OverTheLimit_LeavesNoFileBehind()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "over");
        using var limits = lab.Configure(("Lab:Limits:ArtifactBytes", "1000"));

        // Chunked (no Content-Length): the limit is found while streaming to disk, not from the header.
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/agent/jobs/{job.JobId}/artifacts/chunked.bin")
        {
            Content = new StreamContent(new MemoryStream(new byte[5000])),
        };
        request.Headers.TransferEncodingChunked = true;
        var response = await agent.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var tmp = Path.Combine(lab.TempDir, "server", "artifacts", "tmp");
        Assert.True(!Directory.Exists(tmp) || !Directory.EnumerateFiles(tmp).Any());
        using var client = lab.Client();
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/api/jobs/{job.JobId}/artifacts/chunked.bin")).StatusCode);
    }

    [Fact]
    public async Task Put_AfterTheJobEnded_Returns410()
    {
        var (agent, job) = await ClaimedJobAsync(lab, "late");
        await agent.PostAsJsonAsync($"/api/agent/jobs/{job.JobId}/complete", new JobCompletion(Outcome.BuildFailed, "make: error"), LabFixture.Json);

        var response = await PutAsync(agent, job.JobId, "kernel.elf", [1, 2, 3]);

        Assert.Equal(HttpStatusCode.Gone, response.StatusCode);
    }
}
