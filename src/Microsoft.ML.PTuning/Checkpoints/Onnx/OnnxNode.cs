using System.Buffers.Binary;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>An ONNX graph node.</summary>
internal sealed record OnnxNode(string Name, string OpType, string Domain, string[] Inputs, string[] Outputs, IReadOnlyDictionary<string, OnnxAttribute> Attributes)
{
    /// <summary>The node's name, or a description when it has none, for error messages.</summary>
    public string DisplayName => Name.Length > 0 ? $"'{Name}' ({OpType})" : $"{OpType} node producing '{string.Join("', '", Outputs)}'";
}
