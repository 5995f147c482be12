using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Foundation;

/// <summary>A transformer of this library saves state into ML.NET's model zip and a fresh process loads it back.</summary>
[FreshProcessCommands]
public class ModelZipAccessTests
{
    static ModelZipAccessTests()
    {
        FreshProcess.Register("load-probe", args =>
        {
            var mlContext = new MLContext(seed: 1); // a fresh context: nothing registered by hand
            ITransformer loaded = mlContext.Model.Load(args[0], out _);
            return Convert.ToHexString(((ModelZipProbeTransformer)loaded).Payload);
        });
    }

    private sealed class Row
    {
        public float X { get; set; }
    }

    private static string SaveProbe(byte[] payload)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new Row { X = 1 } });
        string path = Path.Combine(TestPaths.NewTempFolder("zip"), "probe.zip");
        mlContext.Model.Save(new ModelZipProbeTransformer(payload), data.Schema, path);
        return path;
    }

    [Fact]
    public void PayloadRoundTripsThroughTheModelZipInAFreshProcess()
    {
        byte[] payload = Enumerable.Range(0, 1000).Select(i => (byte)(i * 37)).ToArray();
        string path = SaveProbe(payload);

        string restored = FreshProcess.Run("load-probe", path);

        Assert.Equal(Convert.ToHexString(payload), restored);
    }

    [Fact]
    public void PayloadRoundTripsInAFreshContext()
    {
        byte[] payload = { 1, 2, 3, 250 };
        string path = SaveProbe(payload);
        ITransformer loaded = new MLContext().Model.Load(path, out DataViewSchema schema);
        Assert.Equal(payload, Assert.IsType<ModelZipProbeTransformer>(loaded).Payload);
        Assert.Equal("X", Assert.Single(schema).Name);
    }

    [Fact]
    public void ATruncatedZipFailsWithAnError()
    {
        string path = SaveProbe(new byte[4096]);
        byte[] bytes = File.ReadAllBytes(path);
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Assert.ThrowsAny<Exception>(() => new MLContext().Model.Load(path, out _));
    }
}
