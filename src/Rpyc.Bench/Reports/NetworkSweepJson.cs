using System.Text.Json;

namespace Rpyc.Bench;

/// <summary>
/// The JSON of a network sweep, the report's top-level <c>sweep</c>: <c>points</c> keyed by RTT
/// (<c>0</c>, <c>200us</c>, <c>1ms</c>, ...), each with every target's ping and scenarios as in
/// <c>target.scenarios</c>, then the crossovers and their definition.
/// </summary>
internal static class NetworkSweepJson
{
    public static void Write(Utf8JsonWriter w, NetworkSweepReport sweep)
    {
        w.WriteStartObject();
        JsonReporter.Number(w, "seconds_per_variant", sweep.SecondsPerVariant.TotalSeconds);
        JsonReporter.Number(w, "crossover_factor", NetworkSweep.CrossoverFactor);
        w.WriteString("crossover_definition", NetworkSweep.CrossoverDefinition);
        w.WriteStartObject("points");
        foreach (NetworkSweepPoint point in sweep.Points)
        {
            w.WriteStartObject(point.Key);
            JsonReporter.Number(w, "rtt_seconds", point.RoundTrip.TotalSeconds);
            w.WriteString("network", point.Profile.Spec);
            w.WriteStartObject("targets");
            foreach (NetworkSweepTargetResult t in point.Targets)
            {
                w.WriteStartObject(t.Target);
                w.WriteStartObject("ping");
                JsonReporter.Stats(w, t.Ping ?? Statistics.Empty, null);
                w.WriteEndObject();
                JsonReporter.Number(w, "ping_round_trips", t.PingRoundTrips);
                w.WriteStartObject("scenarios");
                foreach (ScenarioResult x in t.Scenarios)
                {
                    w.WriteStartObject(x.Key);
                    w.WriteString("scenario", x.Scenario);
                    JsonReporter.Number(w, "round_trips_per_op", x.RoundTripsPerOp);
                    JsonReporter.Number(w, "bytes_per_op", x.BytesPerOp);
                    w.WriteStartObject("latency");
                    JsonReporter.Stats(w, x.Latency, x.Failures);
                    w.WriteEndObject();
                    JsonReporter.Number(w, "predicted_seconds", x.PredictedSeconds);
                    JsonReporter.Number(w, "model_ratio", x.ModelRatio);
                    w.WriteBoolean("beyond_model", x.BeyondModel);
                    w.WriteEndObject();
                }
                w.WriteEndObject();
                if (t.Relay is { } relay)
                {
                    w.WriteStartObject("relay");
                    JsonReporter.Number(w, "lateness_p50", relay.Lateness.P50);
                    JsonReporter.Number(w, "lateness_p99", relay.Lateness.P99);
                    JsonReporter.Number(w, "cpu_seconds", relay.CpuSeconds);
                    JsonReporter.Number(w, "delay_compensation_seconds", relay.DelayCompensation.TotalSeconds);
                    w.WriteEndObject();
                }
                w.WriteString("error", t.Error);
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }
        w.WriteEndObject();
        w.WriteStartArray("crossovers");
        foreach (NetworkSweepCrossover c in sweep.Crossovers())
        {
            w.WriteStartObject();
            w.WriteString("scenario", c.Scenario);
            w.WriteString("rpyc_variant", c.RpycKey);
            w.WriteString("rpyc_target", c.RpycTarget);
            w.WriteString("rest_target", c.RestTarget);
            w.WriteString("where", Where(c.Kind));
            JsonReporter.Number(w, "rtt_seconds", c.RoundTripSeconds);
            w.WriteStartObject("ratio_by_rtt");
            for (int i = 0; i < sweep.Points.Count; i++)
            {
                JsonReporter.Number(w, sweep.Points[i].Key, c.Ratios[i]);
            }
            w.WriteEndObject();
            // Added after the fields above (readers of older reports find them missing): the two points
            // a crossover "within" is interpolated between, and the points between them without a time.
            if (c.Between is (int below, int above))
            {
                w.WriteStartArray("interpolated_between");
                w.WriteStringValue(sweep.Points[below].Key);
                w.WriteStringValue(sweep.Points[above].Key);
                w.WriteEndArray();
            }
            else
            {
                w.WriteNull("interpolated_between");
            }
            w.WriteStartArray("interpolated_across");
            foreach ((string key, IReadOnlyList<string> failed) in NetworkSweepTables.Gaps(c, sweep))
            {
                w.WriteStartObject();
                w.WriteString("rtt", key);
                w.WriteStartArray("failed_targets");
                foreach (string target in failed)
                {
                    w.WriteStringValue(target);
                }
                w.WriteEndArray();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteStartObject("skipped");
        foreach (KeyValuePair<string, string> kv in sweep.Skipped)
        {
            w.WriteString(kv.Key, kv.Value);
        }
        w.WriteEndObject();
        w.WriteEndObject();
    }

    public static string Where(NetworkSweepCrossoverKind kind) => kind switch
    {
        NetworkSweepCrossoverKind.AtOrBelowFirst => "at_or_below_first_point",
        NetworkSweepCrossoverKind.Within => "within",
        NetworkSweepCrossoverKind.Beyond => "beyond_last_point",
        _ => "unknown",
    };
}
