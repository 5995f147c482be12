using System.Buffers.Binary;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>An ONNX model: the parts of <c>ModelProto</c> the importer reads.</summary>
internal sealed record OnnxModel(long IrVersion, IReadOnlyDictionary<string, long> OpsetImports, OnnxGraph Graph);
