using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Rpyc.Bench;

/// <summary>
/// The http_threaded target: an ASP.NET Core minimal API on Kestrel with the benchmark routes.
/// Bodies are <c>application/octet-stream</c>, every response carries its Content-Length.
/// </summary>
public sealed class KestrelBenchServer : IDisposable
{
    private const int MaxRequestBody = 256 * 1024 * 1024;
    private readonly WebApplication _app;

    /// <summary>Builds and starts the server.</summary>
    /// <param name="host">Address to bind, e.g. 127.0.0.1.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    /// <param name="certificate">Serve HTTPS with this certificate (http_threaded_tls), or <c>null</c> for HTTP.</param>
    public KestrelBenchServer(string host, int port, System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The host's console lifetime would take SIGTERM and Ctrl-C for itself; the owner stops this server.
        builder.Services.AddSingleton<IHostLifetime, OwnerLifetime>();
        // The socket transport's default waits for data with a zero-byte receive before it takes a
        // buffer, to save memory on idle connections: a second syscall for every read, which on a
        // streaming upload means one more per 4 KiB block. A benchmark has few connections, all busy.
        builder.WebHost.UseSockets(options =>
        {
            options.WaitForDataBeforeAllocatingBuffer = false;
            options.UnsafePreferInlineScheduling = true;
        });
        // Kestrel's own pool hands out 4 KiB blocks, and the socket transport receives into one block
        // at a time: a 1 MiB upload took 256 receives and as many pipe wake-ups, which made its upload
        // 2.6 times slower than its download (issue 11). Blocks of 64 KiB read an upload as fast as
        // the kernel delivers it; registered after UseKestrelCore's factory, so this one is resolved.
        builder.Services.AddSingleton<IMemoryPoolFactory<byte>>(LargeBlockPoolFactory.Instance);
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.Listen(RpycServer.ResolveBindAddress(host), port, listen =>
            {
                if (certificate is not null)
                {
                    listen.UseHttps(certificate);
                }
            });
            options.Limits.MaxRequestBodySize = MaxRequestBody;
            options.AddServerHeader = false;
        });
        _app = builder.Build();
        MapRoutes(_app);
        _app.MapScenarioRoutes();
        _app.MapBinaryRoutes();
        _app.StartAsync().GetAwaiter().GetResult();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
    }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    private static void MapRoutes(WebApplication app)
    {
        app.MapGet("/ping", static context => WriteAsync(context, "text/plain", "pong"u8.ToArray()));
        app.MapPost("/echo", static context => EchoAsync(context));
        app.MapPost("/upload", static context => UploadAsync(context));
        app.MapGet("/download", static context =>
        {
            int n = int.Parse(context.Request.Query["n"].ToString(), CultureInfo.InvariantCulture);
            return WriteAsync(context, "application/octet-stream", BenchOperations.Download(n));
        });
        app.MapGet("/compute", static context =>
        {
            long n = long.Parse(context.Request.Query["n"].ToString(), CultureInfo.InvariantCulture);
            return WriteAsync(context, "text/plain", Ascii(Convert.ToString(BenchOperations.Compute(n), CultureInfo.InvariantCulture)!));
        });
        app.MapGet("/sleep", static async context =>
        {
            string text = context.Request.Query["s"].ToString();
            double seconds = double.Parse(text, CultureInfo.InvariantCulture);
            await Task.Delay(TimeSpan.FromSeconds(Math.Max(0, seconds))).ConfigureAwait(false);
            await WriteAsync(context, "text/plain", Ascii(seconds.ToString("R", CultureInfo.InvariantCulture))).ConfigureAwait(false);
        });
    }

    private static byte[] Ascii(string text) => Encoding.ASCII.GetBytes(text);

    // Counts the body where Kestrel received it (Request.BodyReader: its own pooled segments), with
    // no copy and no buffer per request; the count must match the announced Content-Length.
    private static async Task UploadAsync(HttpContext context)
    {
        PipeReader reader = context.Request.BodyReader;
        long total = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            total += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }
        if (context.Request.ContentLength is long announced && announced != total)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }
        await WriteAsync(context, "text/plain", Ascii(total.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
    }

    // The echoed body goes through a pooled buffer of the announced length (chunked requests, which
    // announce none, are collected as they come).
    private static async Task EchoAsync(HttpContext context)
    {
        if (context.Request.ContentLength is not long length)
        {
            using var collected = new MemoryStream();
            await context.Request.Body.CopyToAsync(collected, context.RequestAborted).ConfigureAwait(false);
            await WriteAsync(context, "application/octet-stream", collected.ToArray()).ConfigureAwait(false);
            return;
        }
        if (length > MaxRequestBody)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            return;
        }
        byte[] body = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            await context.Request.Body.ReadExactlyAsync(body.AsMemory(0, (int)length), context.RequestAborted).ConfigureAwait(false);
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = length;
            await context.Response.Body.WriteAsync(body.AsMemory(0, (int)length), context.RequestAborted).ConfigureAwait(false);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    // A large body goes out in slices, each write awaiting Kestrel's flush: one write of a whole
    // 64 MiB body had Kestrel copy all of it into its output pipe first (a thousand 64 KiB blocks
    // live at once, more than the array pool keeps), and 64 MiB downloads ran at 0.15x raw TCP
    // while 8 MiB ones ran at 0.70x. A REST handler streaming a large body would write it so.
    private const int WriteSlice = 1024 * 1024;

    private static Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return body.Length <= WriteSlice ? context.Response.Body.WriteAsync(body, 0, body.Length) : WriteSlicedAsync(context.Response.Body, body);
    }

    private static async Task WriteSlicedAsync(Stream stream, byte[] body)
    {
        for (int offset = 0; offset < body.Length; offset += WriteSlice)
        {
            await stream.WriteAsync(body.AsMemory(offset, Math.Min(WriteSlice, body.Length - offset))).ConfigureAwait(false);
        }
    }

    /// <summary>Stops the server.</summary>
    public void Dispose()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        _app.StopAsync(timeout.Token).GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }

    // Blocks of at least BlockSize from the shared array pool (Kestrel asks for 4 KiB).
    private sealed class LargeBlockPoolFactory : IMemoryPoolFactory<byte>
    {
        public static LargeBlockPoolFactory Instance { get; } = new();

        public MemoryPool<byte> Create(MemoryPoolOptions? options = null) => new LargeBlockPool();
    }

    private sealed class LargeBlockPool : MemoryPool<byte>
    {
        private const int BlockSize = 64 * 1024;

        public override int MaxBufferSize => 1024 * 1024;

        public override IMemoryOwner<byte> Rent(int minBufferSize = -1) =>
            new Block(ArrayPool<byte>.Shared.Rent(Math.Max(minBufferSize, BlockSize)));

        protected override void Dispose(bool disposing)
        {
        }

        private sealed class Block(byte[] array) : IMemoryOwner<byte>
        {
            private byte[]? _array = array;

            public Memory<byte> Memory => _array ?? throw new ObjectDisposedException(nameof(Block));

            public void Dispose()
            {
                if (Interlocked.Exchange(ref _array, null) is byte[] array)
                {
                    ArrayPool<byte>.Shared.Return(array);
                }
            }
        }
    }

    private sealed class OwnerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
