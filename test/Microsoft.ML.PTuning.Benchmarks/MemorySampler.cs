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
/// <remarks>
/// On Linux a sample allocates nothing: it reads <c>/proc/self/statm</c> with <c>pread</c> into a stack buffer. A
/// thread that allocates every 20 ms sets off garbage collections in the middle of the training thread's native calls,
/// and TorchSharp's temporary Scalars can then be freed while libtorch reads them (see the library's
/// <c>ScalarOperand</c>; the library now holds its own, but other TorchSharp code in the process may not), which
/// aborted a full fine-tuning run here.
/// Elsewhere it falls back to <see cref="Process.WorkingSet64"/>.
/// </remarks>
internal sealed class MemorySampler : IDisposable
{
    private readonly Process _process = Process.GetCurrentProcess();
    private readonly int _statm = OpenStatm();
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
        if (_statm >= 0)
        {
            long pages = ResidentPages(_statm);
            if (pages >= 0)
                return pages * Environment.SystemPageSize;
        }
        lock (_process)
        {
            _process.Refresh();
            return _process.WorkingSet64;
        }
    }

    // The second field of /proc/self/statm (resident pages), read without allocating; -1 if it cannot be read.
    private static long ResidentPages(int fd)
    {
        Span<byte> buffer = stackalloc byte[128];
        nint read;
        unsafe
        {
            fixed (byte* start = buffer)
                read = PRead(fd, start, (nuint)buffer.Length, 0);
        }
        if (read <= 0)
            return -1;
        Span<byte> text = buffer[..(int)read];
        int space = text.IndexOf((byte)' ');
        if (space < 0)
            return -1;
        long pages = 0;
        int digits = 0;
        foreach (byte b in text[(space + 1)..])
        {
            if (b < (byte)'0' || b > (byte)'9')
                break;
            pages = pages * 10 + (b - '0');
            digits++;
        }
        return digits > 0 ? pages : -1;
    }

    private static int OpenStatm()
    {
        if (!OperatingSystem.IsLinux())
            return -1;
        try
        {
            int fd = Open("/proc/self/statm", 0);
            return fd >= 0 && ResidentPages(fd) >= 0 ? fd : -1;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return -1;
        }
    }

    [DllImport("libc", EntryPoint = "open")]
    private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

    [DllImport("libc", EntryPoint = "pread")]
    private static extern unsafe nint PRead(int fd, byte* buffer, nuint count, long offset);

    [DllImport("libc", EntryPoint = "close")]
    private static extern int Close(int fd);

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
        if (_statm >= 0)
            Close(_statm);
    }
}
