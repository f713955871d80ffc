using System.Diagnostics;
using System.Diagnostics.Metrics;
using Rpyc.Telemetry;

namespace Rpyc.Bench;

// What an OpenTelemetry SDK does when an application calls AddSource("Rpyc") and AddMeter("Rpyc"):
// an ActivityListener that samples every activity of the Rpyc source, and a MeterListener that
// reads every measurement of the Rpyc meter. Listeners are process-wide, so they are on only while
// a client of the target that asked for them is open (counted), and the other targets measured
// in the same process see none.
internal static class InstrumentationListening
{
    private static readonly object s_sync = new();
    private static int s_users;
    private static ActivityListener? s_activities;
    private static MeterListener? s_meters;
    private static long s_activityCount;
    private static long s_measurements;

    /// <summary>Activities stopped and measurements read so far: proof the listeners saw the calls.</summary>
    public static (long Activities, long Measurements) Seen => (Interlocked.Read(ref s_activityCount), Interlocked.Read(ref s_measurements));

    public static IDisposable Start()
    {
        lock (s_sync)
        {
            if (s_users++ == 0)
            {
                s_activities = new ActivityListener
                {
                    ShouldListenTo = source => source.Name == RpycInstrumentation.ActivitySourceName,
                    Sample = static (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
                    ActivityStopped = _ => Interlocked.Increment(ref s_activityCount),
                };
                ActivitySource.AddActivityListener(s_activities);
                s_meters = new MeterListener
                {
                    InstrumentPublished = (instrument, listener) =>
                    {
                        if (instrument.Meter.Name == RpycInstrumentation.MeterName)
                        {
                            listener.EnableMeasurementEvents(instrument);
                        }
                    },
                };
                s_meters.SetMeasurementEventCallback<long>((_, _, _, _) => Interlocked.Increment(ref s_measurements));
                s_meters.SetMeasurementEventCallback<double>((_, _, _, _) => Interlocked.Increment(ref s_measurements));
                s_meters.SetMeasurementEventCallback<int>((_, _, _, _) => Interlocked.Increment(ref s_measurements));
                s_meters.Start();
            }
        }
        return new Lease();
    }

    private static void Release()
    {
        lock (s_sync)
        {
            if (--s_users == 0)
            {
                s_activities?.Dispose();
                s_meters?.Dispose();
                s_activities = null;
                s_meters = null;
            }
        }
    }

    private sealed class Lease : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0)
            {
                Release();
            }
        }
    }
}
