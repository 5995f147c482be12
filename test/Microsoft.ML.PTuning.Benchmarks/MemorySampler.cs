using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// The peak resident set of this process while one benchmark run is active. <see cref="Process.PeakWorkingSet64"/> is a
/// high-water mark for the whole process, which would charge every run with the largest earlier one; instead this
/// samples the working set every 20 ms between <see cref="Start"/> and <see cref="Dispose"/>. Before it starts, it
/// collects .NET garbage and asks glibc to hand freed heap pages back to the OS (<c>malloc_trim</c>, where available),
/// so memory a previous run freed but the allocator kept does not count. The peak still includes what the process
/// holds for every run: the runtime, the loaded base model, the data.
/// </summary>
internal sealed class MemorySampler : IDisposable
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly Thread _thread;
    private volatile bool _stop;
    private long _peak;

    private MemorySampler()
    {
        ReleaseFreedMemory();
        StartBytes = CurrentBytes();
        _peak = StartBytes;
        _thread = new Thread(Sample) { IsBackground = true, Name = "rss-sampler" };
        _thread.Start();
    }

    /// <summary>The resident set when sampling started (after the release of freed memory).</summary>
    public long StartBytes { get; }

    /// <summary>The largest resident set seen so far.</summary>
    public long PeakBytes
    {
        get
        {
            long now = CurrentBytes();
            long peak;
            do
            {
                peak = Interlocked.Read(ref _peak);
            }
            while (now > peak && Interlocked.CompareExchange(ref _peak, now, peak) != peak);
            return Math.Max(peak, now);
        }
    }

    public double PeakMb => PeakBytes / (1024.0 * 1024.0);

    public double StartMb => StartBytes / (1024.0 * 1024.0);

    public static MemorySampler Start() => new();

    private void Sample()
    {
        while (!_stop)
        {
            _ = PeakBytes;
            Thread.Sleep(20);
        }
    }

    private long CurrentBytes()
    {
        lock (_process)
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    /// <summary>Runs the .NET GC and, on glibc, <c>malloc_trim(0)</c>.</summary>
    public static void ReleaseFreedMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        if (!OperatingSystem.IsLinux())
            return;
        try
        {
            MallocTrim(0);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            // musl and other C libraries have no malloc_trim; the sample then includes memory the allocator kept.
        }
    }

    [DllImport("libc", EntryPoint = "malloc_trim")]
    private static extern int MallocTrim(nuint pad);

    public void Dispose()
    {
        _ = PeakBytes;
        _stop = true;
        _thread.Join();
    }
}
