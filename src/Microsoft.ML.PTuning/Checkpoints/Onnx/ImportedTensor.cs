using System.Globalization;
using System.Text.RegularExpressions;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>A weight of the imported encoder under its Hugging Face name, read from an ONNX tensor (transposed or not).</summary>
internal sealed record ImportedTensor(string Name, OnnxTensor Source, bool Transposed)
{
    /// <summary>The Hugging Face shape: <c>[out, in]</c> for a matrix stored <c>[in, out]</c> in the ONNX graph.</summary>
    public long[] Shape => Transposed ? new[] { Source.Dims[1], Source.Dims[0] } : Source.Dims;
}
