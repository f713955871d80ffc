using System.Buffers;
using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Rpyc.Bench;

// Binary transfers on Kestrel, the same routes as Flask's (python/flask_server.py): bodies are hashed
// where Kestrel received them and never held whole, so a binary upload lifts the server's 256 MiB
// body limit for its own request; downloads are generated as they are written.
internal static class KestrelBinaryRoutes
{
    private const int WriteBlock = 1 << 20;

    public static void MapBinaryRoutes(this WebApplication app)
    {
        app.MapPost("/binary/upload", static async context =>
        {
            string id = "whole-" + context.Request.Query["id"].ToString();
            await AppendBodyAsync(context, id).ConfigureAwait(false);
            await FinishAsync(context, id).ConfigureAwait(false);
        });
        app.MapPost("/binary/append", static async context =>
        {
            long total = await AppendBodyAsync(context, Id(context)).ConfigureAwait(false);
            await WriteAsync(context, "text/plain", Encoding.ASCII.GetBytes(total.ToString(CultureInfo.InvariantCulture))).ConfigureAwait(false);
        });
        app.MapPost("/binary/finish", static context => FinishAsync(context, Id(context)));
        app.MapGet("/binary/download", static async context =>
        {
            long offset = long.Parse(context.Request.Query["offset"].ToString(), CultureInfo.InvariantCulture);
            long n = long.Parse(context.Request.Query["n"].ToString(), CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/octet-stream";
            context.Response.ContentLength = n;
            PipeWriter writer = context.Response.BodyWriter;
            for (long done = 0; done < n;)
            {
                int count = (int)Math.Min(WriteBlock, n - done);
                Memory<byte> block = writer.GetMemory(count)[..count];
                BinaryContent.Fill(offset + done, block.Span);
                writer.Advance(count);
                done += count;
                FlushResult flushed = await writer.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return;
                }
            }
        });
    }

    private static string Id(HttpContext context) =>
        context.Request.Query["id"].ToString() is { Length: > 0 } id ? id : throw new BadHttpRequestException("A binary upload needs ?id=.");

    private static async Task<long> AppendBodyAsync(HttpContext context, string id)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        PipeReader reader = context.Request.BodyReader;
        long total = 0;
        while (true)
        {
            ReadResult result = await reader.ReadAsync(context.RequestAborted).ConfigureAwait(false);
            foreach (ReadOnlyMemory<byte> segment in result.Buffer)
            {
                total = BinarySink.Shared.Append(id, segment.Span);
            }
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return total;
            }
        }
    }

    private static Task FinishAsync(HttpContext context, string id)
    {
        (string sha256, long bytes) = BinarySink.Shared.FinishRaw(id);
        return WriteAsync(context, "application/json", Encoding.ASCII.GetBytes($"{{\"sha256\": \"{sha256}\", \"bytes\": {bytes.ToString(CultureInfo.InvariantCulture)}}}"));
    }

    private static Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, 0, body.Length);
    }
}
