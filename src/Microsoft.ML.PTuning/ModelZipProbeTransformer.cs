using Microsoft.ML;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning;
using Microsoft.ML.Runtime;

[assembly: LoadableClass(typeof(ModelZipProbeTransformer), null, typeof(SignatureLoadModel),
    "PTuning model-zip probe", ModelZipProbeTransformer.LoaderSignature)]

namespace Microsoft.ML.PTuning;

/// <summary>
/// The smallest transformer that stores state in ML.NET's model zip: an identity mapping that carries a byte payload.
/// It proves that a class outside Microsoft's assemblies saves through <c>mlContext.Model.Save</c> and comes back through
/// <c>mlContext.Model.Load</c> with no registration call; the prefix-tuning transformer uses the same mechanism.
/// </summary>
internal sealed class ModelZipProbeTransformer : ITransformer
{
    internal const string LoaderSignature = "PTuningZipProbe";

    // *** Binary format ***
    // int: payload length N
    // byte[N]: payload
    // stream "Payload.bin": the same N bytes, to show that side streams of the zip work too
    private static VersionInfo GetVersionInfo() => new VersionInfo(
        modelSignature: "PTZPROBE",
        verWrittenCur: 0x00010001, // Initial
        verReadableCur: 0x00010001,
        verWeCanReadBack: 0x00010001,
        loaderSignature: LoaderSignature,
        loaderAssemblyName: typeof(ModelZipProbeTransformer).Assembly.FullName);

    public ModelZipProbeTransformer(byte[] payload)
    {
        Payload = payload ?? throw new ArgumentNullException(nameof(payload));
    }

    public byte[] Payload { get; }

    public bool IsRowToRowMapper => false;

    public DataViewSchema GetOutputSchema(DataViewSchema inputSchema) => inputSchema;

    public IRowToRowMapper GetRowToRowMapper(DataViewSchema inputSchema) =>
        throw new NotSupportedException("The model-zip probe is not a row-to-row mapper.");

    public IDataView Transform(IDataView input) => input;

    void ICanSaveModel.Save(ModelSaveContext ctx)
    {
        ctx.CheckAtModel();
        ctx.SetVersionInfo(GetVersionInfo());
        ctx.Writer.Write(Payload.Length);
        ctx.Writer.Write(Payload);
        ctx.SaveBinaryStream("Payload.bin", writer => writer.Write(Payload));
    }

    // Called by ML.NET's component catalog, found through the LoadableClass attribute above.
    private static ModelZipProbeTransformer Create(IHostEnvironment env, ModelLoadContext ctx)
    {
        ctx.CheckAtModel(GetVersionInfo());
        int length = ctx.Reader.ReadInt32();
        if (length < 0)
            throw new FormatException($"Model zip probe: negative payload length {length}; the zip is corrupt.");
        byte[] payload = ctx.Reader.ReadBytes(length);
        if (payload.Length != length)
            throw new FormatException($"Model zip probe: expected {length} payload bytes, found {payload.Length}; the zip is truncated.");
        byte[]? side = null;
        if (!ctx.TryLoadBinaryStream("Payload.bin", reader => side = reader.ReadBytes(length)) || side == null || !side.AsSpan().SequenceEqual(payload))
            throw new FormatException("Model zip probe: the side stream 'Payload.bin' is missing or differs from the payload.");
        return new ModelZipProbeTransformer(payload);
    }
}
