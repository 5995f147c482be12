using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Modeling;

/// <summary>
/// P-Tuning v1's prompt encoder (Liu et al., 2021, "GPT Understands, Too"): Q trainable vectors <c>embedding</c>
/// <c>[Q, H]</c> reparameterized through a two-layer bidirectional LSTM (<c>lstm_head</c>, H/2 per direction) and an MLP
/// (<c>mlp_head</c>: Linear, ReLU, Linear), or through the MLP alone. The LSTM lets neighbouring prompt vectors depend on
/// each other. Only training uses it: <see cref="Fold"/> gives the plain table it computes.
/// </summary>
public sealed class PTuningPromptEncoder : nn.Module
{
#pragma warning disable IDE1006 // names as in P-Tuning v1's PromptEncoder
    private readonly Embedding embedding;
    private readonly LSTM? lstm_head;
    private readonly Sequential mlp_head;
#pragma warning restore IDE1006

    /// <summary>An encoder of <paramref name="length"/> vectors of width <paramref name="hiddenSize"/>, embedding N(0, 1) as P-Tuning v1's.</summary>
    /// <param name="length">Q, the prompt vectors.</param>
    /// <param name="hiddenSize">H, the encoder's hidden size.</param>
    /// <param name="lstm">BiLSTM + MLP (P-Tuning v1) when true, the MLP alone when false.</param>
    public PTuningPromptEncoder(int length, int hiddenSize, bool lstm) : base(nameof(PTuningPromptEncoder))
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(length, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(hiddenSize, 2);
        Length = length;
        UsesLstm = lstm;
        embedding = nn.Embedding(length, hiddenSize);
        long mlpInput = hiddenSize;
        if (lstm)
        {
            lstm_head = nn.LSTM(hiddenSize, hiddenSize / 2, numLayers: 2, batchFirst: true, bidirectional: true);
            mlpInput = 2 * (hiddenSize / 2);
        }
        mlp_head = nn.Sequential(nn.Linear(mlpInput, hiddenSize), nn.ReLU(), nn.Linear(hiddenSize, hiddenSize));
        RegisterComponents();
    }

    /// <summary>Q, the prompt vectors.</summary>
    public int Length { get; }

    /// <summary>Whether the vectors pass the bidirectional LSTM before the MLP.</summary>
    public bool UsesLstm { get; }

    /// <summary>The prompt vectors <c>[Q, H]</c>, with gradients to the encoder's parameters.</summary>
    /// <remarks>
    /// Always computed with autograd on, so training, validation, inference and <see cref="Fold"/> see the same vectors:
    /// under <c>no_grad</c> libtorch may run the LSTM through another CPU kernel, whose output differed by 0.04 on a
    /// 2-core AMD EPYC with AVX512-BF16 (<c>PromptVectorsTests</c>, 5 × 32 vectors). The LSTM is Q steps of width H,
    /// so the graph this keeps costs nothing next to the encoder's forward pass.
    /// </remarks>
    public Tensor Vectors()
    {
        using var scope = torch.NewDisposeScope();
        using var sameKernelAsTraining = torch.enable_grad();
        Tensor x = embedding.weight!.unsqueeze(0);
        if (lstm_head is not null)
            x = lstm_head.forward(x, null).Item1;
        return mlp_head.forward(x).squeeze(0).MoveToOuterDisposeScope();
    }

    /// <summary>The plain table this encoder computes now, as a <see cref="PromptEncoder"/> (same vectors, no LSTM or MLP).</summary>
    public PromptEncoder Fold()
    {
        using var noGrad = torch.no_grad();
        using Tensor table = Vectors();
        var folded = new PromptEncoder(Length, (int)table.shape[1]);
        folded.to(table.device, table.dtype);
        folded.Table.copy_(table);
        return folded;
    }
}
