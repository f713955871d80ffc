using System.Globalization;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
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
    private readonly WebApplication _app;

    /// <summary>Builds and starts the server.</summary>
    /// <param name="host">Address to bind, e.g. 127.0.0.1.</param>
    /// <param name="port">Port, 0 for a free one.</param>
    public KestrelBenchServer(string host, int port)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        // The host's console lifetime would take SIGTERM and Ctrl-C for itself; the owner stops this server.
        builder.Services.AddSingleton<IHostLifetime, OwnerLifetime>();
        builder.WebHost.ConfigureKestrel(options =>
        {
            options.Listen(IPAddress.Parse(host == "localhost" ? "127.0.0.1" : host), port);
            options.Limits.MaxRequestBodySize = 256L * 1024 * 1024;
            options.AddServerHeader = false;
        });
        _app = builder.Build();
        MapRoutes(_app);
        _app.MapScenarioRoutes();
        _app.StartAsync().GetAwaiter().GetResult();
        string address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Port = new Uri(address).Port;
    }

    /// <summary>The bound port.</summary>
    public int Port { get; }

    private static void MapRoutes(WebApplication app)
    {
        app.MapGet("/ping", static context => WriteAsync(context, "text/plain", "pong"u8.ToArray()));
        app.MapPost("/echo", static async context =>
        {
            byte[] body = await ReadBodyAsync(context.Request).ConfigureAwait(false);
            await WriteAsync(context, "application/octet-stream", body).ConfigureAwait(false);
        });
        app.MapPost("/upload", static async context =>
        {
            byte[] body = await ReadBodyAsync(context.Request).ConfigureAwait(false);
            await WriteAsync(context, "text/plain", Ascii(body.Length.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
        });
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

    private static async Task<byte[]> ReadBodyAsync(HttpRequest request)
    {
        if (request.ContentLength is long length)
        {
            byte[] body = new byte[length];
            await request.Body.ReadExactlyAsync(body).ConfigureAwait(false);
            return body;
        }
        using var buffer = new MemoryStream();
        await request.Body.CopyToAsync(buffer).ConfigureAwait(false);
        return buffer.ToArray();
    }

    private static Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, 0, body.Length);
    }

    /// <summary>Stops the server.</summary>
    public void Dispose()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
        _app.StopAsync(timeout.Token).GetAwaiter().GetResult();
        ((IDisposable)_app).Dispose();
    }

    private sealed class OwnerLifetime : IHostLifetime
    {
        public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
