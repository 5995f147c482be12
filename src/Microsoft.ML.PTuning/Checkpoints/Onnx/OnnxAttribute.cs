using System.Buffers.Binary;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>An ONNX node attribute; only the scalar, tensor and list kinds this importer reads are kept.</summary>
internal sealed record OnnxAttribute(string Name, float? Float, long? Int, string? String, OnnxTensor? Tensor, float[] Floats, long[] Ints);
