using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// The trainable deep prefix of P-Tuning v2: P rows of keys and values for every layer, flat
/// (<c>embedding</c> <c>[P, 2·L·H]</c>) or reparameterized through an MLP
/// (<c>embedding</c> <c>[P, H]</c> → <c>trans.0</c> Linear(H, prefix hidden) → Tanh → <c>trans.2</c> Linear(prefix hidden, 2·L·H)).
/// With partial depth the prefix covers only the top <see cref="LayerCount"/> layers (L above is then that count).
/// </summary>
/// <remarks>
/// Initialisation follows P-Tuning v2: the embedding table is <c>nn.Embedding</c>'s default N(0, 1), the MLP's linear
/// layers their default. The MLP only eases training; <see cref="Fold"/> turns it into the flat table it computes.
/// </remarks>
public sealed class PrefixEncoder : nn.Module<long, PastKeyValues>
{
#pragma warning disable IDE1006 // names equal P-Tuning v2's state-dict names
    private readonly Embedding embedding;
    private readonly Sequential? trans;
    private readonly EncoderDropout dropout;
#pragma warning restore IDE1006

    private readonly double _dropoutRate;

    /// <summary>Builds a randomly initialised prefix for an encoder of <paramref name="config"/>'s sizes.</summary>
    /// <param name="config">The encoder's sizes (layers, hidden size, heads).</param>
    /// <param name="length">Prefix length P (≥ 1).</param>
    /// <param name="projection">True for the reparameterized (MLP) form.</param>
    /// <param name="projectionHiddenSize">Hidden width of the MLP (P-Tuning v2 uses 512); ignored when flat.</param>
    /// <param name="dropout">Dropout on the prefix keys/values while training (P-Tuning v2 uses hidden_dropout_prob).</param>
    /// <param name="layers">Layers the prefix covers, the top ones (1 to the encoder's layer count); null for all.</param>
    public PrefixEncoder(EncoderConfig config, int length, bool projection = false, int projectionHiddenSize = 512, double dropout = 0.1,
        int? layers = null)
        : base(nameof(PrefixEncoder))
    {
        ArgumentNullException.ThrowIfNull(config);
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        int layerCount = layers ?? config.NumHiddenLayers;
        if (layerCount < 1 || layerCount > config.NumHiddenLayers)
            throw new ArgumentOutOfRangeException(nameof(layers), layers, $"A prefix covers 1 to {config.NumHiddenLayers} layers (the encoder's num_hidden_layers).");
        if (projection)
            ArgumentOutOfRangeException.ThrowIfLessThan(projectionHiddenSize, 1);
        if (!(dropout >= 0 && dropout < 1))
            throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        Config = config;
        Length = length;
        LayerCount = layerCount;
        _dropoutRate = dropout;
        long width = 2L * layerCount * config.HiddenSize;
        if (projection)
        {
            embedding = nn.Embedding(length, config.HiddenSize);
            trans = nn.Sequential(
                nn.Linear(config.HiddenSize, projectionHiddenSize),
                nn.Tanh(),
                nn.Linear(projectionHiddenSize, width));
        }
        else
        {
            embedding = nn.Embedding(length, width);
        }
        this.dropout = new EncoderDropout(dropout);   // nn.Dropout's semantics at a third of its CPU cost
        RegisterComponents();
    }

    /// <summary>The encoder sizes this prefix fits.</summary>
    public EncoderConfig Config { get; }

    /// <summary>Prefix length P.</summary>
    public int Length { get; }

    /// <summary>Layers covered, the top ones of the encoder: its layer count unless built with partial depth.</summary>
    public int LayerCount { get; }

    /// <summary>True when the prefix is computed by the MLP (<c>trans</c>), false for a flat table.</summary>
    public bool IsReparameterized => trans is not null;

    /// <summary>The dropout rate applied to the keys/values while training.</summary>
    public double DropoutRate => _dropoutRate;

    /// <summary>The flat table <c>[P, 2·L·H]</c>: the embedding itself, or the MLP's output for every prefix row.</summary>
    public Tensor Table() => trans is null ? embedding.weight! : trans.forward(embedding.weight!);

    /// <summary>
    /// The prefix keys/values for a batch of <paramref name="batchSize"/>: table <c>[B, P, 2·L·H]</c> → view
    /// <c>[B, P, 2L, heads, head_dim]</c> → dropout → permute <c>[2L, B, heads, P, head_dim]</c> (P-Tuning v2's order).
    /// </summary>
    public override PastKeyValues forward(long batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        using var scope = torch.NewDisposeScope();
        Tensor table = Table();
        Tensor perExample = table.unsqueeze(0).expand(batchSize, -1, -1)
            .view(batchSize, Length, 2 * LayerCount, Config.NumAttentionHeads, Config.HeadDim);
        return new PastKeyValues(dropout.forward(perExample).permute(2, 0, 3, 1, 4).MoveToOuterDisposeScope());
    }

    /// <summary>
    /// An equivalent flat prefix whose table is this prefix's current <see cref="Table"/> (a copy): same output, no MLP
    /// at inference. For a flat prefix, a copy of it.
    /// </summary>
    public PrefixEncoder Fold()
    {
        var folded = new PrefixEncoder(Config, Length, projection: false, dropout: _dropoutRate, layers: LayerCount);
        using (torch.no_grad())
        {
            Tensor table = Table();
            folded.to(table.device);
            folded.embedding.weight!.copy_(table);
        }
        folded.train(training);
        return folded;
    }

    /// <summary>Replaces a flat prefix's table with <paramref name="table"/> <c>[P, 2·L·H]</c>.</summary>
    /// <exception cref="InvalidOperationException">The prefix is reparameterized (fold it first).</exception>
    /// <exception cref="ArgumentException">The table's shape differs.</exception>
    internal void LoadTable(Tensor table, string name)
    {
        if (trans is not null)
            throw new InvalidOperationException("A reparameterized prefix cannot take a flat table; fold it first.");
        Parameter weight = embedding.weight!;
        if (!table.shape.SequenceEqual(weight.shape))
        {
            throw new ArgumentException(
                $"Tensor '{name}' has shape [{string.Join(", ", table.shape)}]; the prefix needs [{string.Join(", ", weight.shape)}] (prefix length, 2·layers·hidden, over the {LayerCount} layers it covers).");
        }

        using (torch.no_grad())
            weight.copy_(table);
    }
}
