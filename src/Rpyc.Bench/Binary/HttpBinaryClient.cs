using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text.Json;

namespace Rpyc.Bench;

// Binary transfers over HTTP/1.1 with HttpClient (one pooled connection): a whole file is one
// request or response whose body is streamed (generated as it is sent, hashed as it arrives), so
// whole transfers need no buffer on either side; chunks are one request each.
internal sealed class HttpBinaryClient : BinaryClient
{
    private const int Block = 1 << 20;
    private readonly HttpClient _client;
    private readonly byte[] _buffer = new byte[Block];

    public HttpBinaryClient(string host, int port)
    {
        _client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1, UseProxy = false, AutomaticDecompression = DecompressionMethods.None })
        {
            BaseAddress = new Uri($"http://{RemoteEndpoint.HostPort(host, port)}"),
            Timeout = System.Threading.Timeout.InfiniteTimeSpan,
        };
    }

    public override bool WholeUploadNeedsBuffer => false;

    public override string? RefuseWhole(long size, bool upload) => null;

    public override (string Sha256, long Bytes) UploadWhole(long size, byte[]? data, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timeout = Timeout(size, cancellationToken);
        var content = new StreamContent(new BinaryContentStream(size), Block);
        content.Headers.ContentLength = size;
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        return Digest(Post($"/binary/upload?id={NewUploadId()}", content, timeout.Token), timeout.Token);
    }

    public override long DownloadWhole(long size, IncrementalHash hash, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timeout = Timeout(size, cancellationToken);
        return Download(0, size, hash, timeout.Token);
    }

    public override (string Sha256, long Bytes) UploadChunked(long size, int chunkSize, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timeout = Timeout(size, cancellationToken);
        string id = NewUploadId();
        foreach (ReadOnlyMemory<byte> chunk in BinaryContent.Chunks(size, chunkSize))
        {
            var content = new ReadOnlyMemoryContent(chunk);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using HttpResponseMessage response = Post($"/binary/append?id={id}", content, timeout.Token);
            response.Content.ReadAsByteArrayAsync(timeout.Token).GetAwaiter().GetResult();
        }
        return Digest(Post($"/binary/finish?id={id}", new ByteArrayContent([]), timeout.Token), timeout.Token);
    }

    public override long DownloadChunked(long size, int chunkSize, IncrementalHash hash, CancellationToken cancellationToken)
    {
        using CancellationTokenSource timeout = Timeout(size, cancellationToken);
        long received = 0;
        for (long offset = 0; offset < size; offset += chunkSize)
        {
            received += Download(offset, Math.Min(chunkSize, size - offset), hash, timeout.Token);
        }
        return received;
    }

    public override void Dispose() => _client.Dispose();

    private static CancellationTokenSource Timeout(long size, CancellationToken cancellationToken)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(TimeoutFor(size));
        return cts;
    }

    private HttpResponseMessage Post(string path, HttpContent content, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = content };
        HttpResponseMessage response = _client.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            response.Dispose();
            throw new InvalidReplyException($"POST {path} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        return response;
    }

    private long Download(long offset, long n, IncrementalHash hash, CancellationToken cancellationToken)
    {
        string path = $"/binary/download?offset={offset.ToString(CultureInfo.InvariantCulture)}&n={n.ToString(CultureInfo.InvariantCulture)}";
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        using HttpResponseMessage response = _client.Send(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidReplyException($"GET {path} answered {(int)response.StatusCode} {response.ReasonPhrase}.");
        }
        using Stream body = response.Content.ReadAsStream(cancellationToken);
        long received = 0;
        int read;
        while ((read = body.Read(_buffer, 0, _buffer.Length)) > 0)
        {
            cancellationToken.ThrowIfCancellationRequested();
            hash.AppendData(_buffer, 0, read);
            received += read;
        }
        return received;
    }

    private static (string, long) Digest(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using (response)
        {
            byte[] body = response.Content.ReadAsByteArrayAsync(cancellationToken).GetAwaiter().GetResult();
            try
            {
                using JsonDocument doc = JsonDocument.Parse(body);
                return (doc.RootElement.GetProperty("sha256").GetString() ?? "", doc.RootElement.GetProperty("bytes").GetInt64());
            }
            catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new InvalidReplyException($"Expected {{\"sha256\", \"bytes\"}}, got {System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 200)))}.");
            }
        }
    }
}

// A read-only stream of a binary file's content, generated as it is read.
internal sealed class BinaryContentStream(long size) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => size;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = (int)Math.Min(buffer.Length, size - _position);
        BinaryContent.Fill(_position, buffer[..n]);
        _position += n;
        return n;
    }

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => new(Read(buffer.Span));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
