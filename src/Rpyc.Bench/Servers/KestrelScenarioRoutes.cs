using System.Globalization;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Rpyc.Bench;

// The decision scenarios' REST routes on Kestrel, the same as Flask's (python/flask_server.py):
// each does in one request the work an RPyC user may spread over many round trips.
internal static class KestrelScenarioRoutes
{
    private static readonly byte[] s_record = JsonSerializer.SerializeToUtf8Bytes(
        ScenarioData.RecordFields.Zip(ScenarioData.RecordValues).ToDictionary(p => p.First, p => p.Second));

    public static void MapScenarioRoutes(this WebApplication app)
    {
        app.MapGet("/record", static context => Json(context, s_record));
        app.MapGet("/list", static context =>
        {
            int n = int.Parse(context.Request.Query["n"].ToString(), CultureInfo.InvariantCulture);
            return Json(context, JsonSerializer.SerializeToUtf8Bytes(ScenarioData.ListValues(n)));
        });
        app.MapGet("/chain", static context =>
        {
            long x = long.Parse(context.Request.Query["x"].ToString(), CultureInfo.InvariantCulture);
            byte[] body = Encoding.ASCII.GetBytes(ScenarioData.Chain(x).ToString(CultureInfo.InvariantCulture));
            context.Response.ContentType = "text/plain";
            context.Response.ContentLength = body.Length;
            return context.Response.Body.WriteAsync(body, 0, body.Length);
        });
        app.MapGet("/map", static context =>
        {
            int n = int.Parse(context.Request.Query["n"].ToString(), CultureInfo.InvariantCulture);
            return Json(context, JsonSerializer.SerializeToUtf8Bytes(ScenarioData.ListValues(n).Select(ScenarioData.Callback)));
        });
    }

    private static Task Json(HttpContext context, byte[] body)
    {
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, 0, body.Length);
    }
}
