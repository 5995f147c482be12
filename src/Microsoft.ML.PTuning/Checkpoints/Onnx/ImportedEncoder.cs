using System.Globalization;
using System.Text.RegularExpressions;

namespace Microsoft.ML.PTuning.Checkpoints;

/// <summary>What an ONNX BERT/RoBERTa encoder graph says about the model: the config.json values and the named weights.</summary>
internal sealed record ImportedEncoder(
    string ModelType,
    int VocabSize,
    int HiddenSize,
    int NumHiddenLayers,
    int NumAttentionHeads,
    int IntermediateSize,
    string HiddenAct,
    int MaxPositionEmbeddings,
    int TypeVocabSize,
    double LayerNormEps,
    int? PadTokenIdFromGraph,
    IReadOnlyList<ImportedTensor> Tensors);
