using System.Diagnostics;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Samples;
using Microsoft.ML.PTuning.Tokenization;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Parity;

/// <summary>
/// all-MiniLM-L6-v2 end to end: imported from ONNX into a Hugging Face folder, loaded through
/// <see cref="HuggingFaceCheckpoint"/>, tokenized by our WordPiece tokenizer and run as padded batches, must give ONNX
/// Runtime's last_hidden_state (on the same ids) at every real token.
/// </summary>
public class MiniLMOnnxParityTests
{
    private const double Tolerance = 1e-4;
    private const int BatchSize = 8;

    private readonly ITestOutputHelper _output;

    public MiniLMOnnxParityTests(ITestOutputHelper output) => _output = output;

    // Short and long, punctuation, numbers, accents, non-Latin scripts, unknown characters, odd spacing, and pairs.
    private static readonly (string Text, string? Pair)[] Inputs =
    [
        ("Hello world!", null),
        ("OK", null),
        ("The quick brown fox jumps over the lazy dog.", null),
        ("I lost my card yesterday; can you block it, please?", null),
        ("Transfer €250.75 to account #48213 by 3:30pm on 12/05/2024.", null),
        ("Émilie and François visited Zürich, São Paulo and Kraków in 2019.", null),
        ("Wow!!! This is... unbelievable?!", null),
        ("naïve café résumé coöperate façade", null),
        ("How much money is left on my account?", "Your balance is 1,234.56 dollars."),
        ("Why hasn't my top-up (made via Apple Pay) arrived yet?", null),
        ("3.14159 is approximately π, and e ≈ 2.71828.", null),
        ("The meeting's at 10 a.m. — don't be late!", null),
        ("東京は日本の首都です。", null),
        ("Can I change my PIN at an ATM abroad?", null),
        ("Email me at john.doe@example.com or call +1 (555) 010-9999.", null),
        ("Is this a paraphrase?", "Is this sentence a paraphrase of the first one, or not?"),
        ("unhappiness, disestablishmentarianism and antidisestablishmentarianism", null),
        ("She said: \"I'll be there in 5 minutes.\"", null),
        ("What's the exchange rate for USD to EUR today?", null),
        ("Straße, Ångström, Øresund and Łódź", null),
        ("#hashtags @mentions and emojis 😀🚀 are text too", null),
        ("   leading, trailing   and repeated   spaces   ", null),
        ("When I arrived at the branch on Monday morning, the clerk told me that my new debit card had been " +
         "sent to my old address in 2021, that it was cancelled automatically after 30 days, and that a replacement " +
         "would take another seven to ten business days unless I paid 15 EUR for express delivery, which seemed " +
         "unreasonable given that the bank had made the mistake in the first place.", null),
        ("Prefix tuning freezes every parameter of the pretrained encoder and learns only a few continuous vectors " +
         "per layer; the keys and values they produce are prepended to every attention layer, so the model can be " +
         "steered towards a task with a tiny fraction of the parameters that full fine-tuning would update.",
         "It works for sequence classification and for named entity recognition."),
    ];

    // About 13 s on the shared 2-core machine (90 MB checkpoint, ONNX Runtime session, three batches up to ~110 tokens).
    [Fact]
    [Trait("Category", "Slow")]
    public void PaddedBatchesMatchOnnxRuntimeAtEveryRealToken()
    {
        string folder = MiniLM.HuggingFaceFolder;
        var clock = Stopwatch.StartNew();
        using var scope = torch.NewDisposeScope();
        var tokenizer = EncoderTokenizer.FromFolder(folder, "bert");
        using var checkpoint = HuggingFaceCheckpoint.Load(folder);
        using TransformerEncoder encoder = checkpoint.CreateEncoder();
        encoder.eval();
        int maxTokens = encoder.Config.MaxTokens(512, prefixLength: 0);
        _output.WriteLine($"tokenizer and checkpoint loaded: {clock.Elapsed.TotalSeconds:F1} s");
        EncodedText[] encoded = Inputs.Select(i => tokenizer.Encode(i.Text, i.Pair, maxTokens)).ToArray();

        // The inputs exercise what they claim: long and short rows in one batch, pairs, unknown characters.
        Assert.True(Inputs.Length >= 20);
        Assert.Contains(encoded, e => e.InputIds.Length > 64);
        Assert.Contains(encoded, e => e.TokenTypeIds.Contains(1));
        Assert.Contains(encoded, e => e.InputIds.Contains(tokenizer.UnknownTokenId));

        double maxError = 0;
        int realTokens = 0, paddedTokens = 0;
        foreach (EncodedText[] batch in encoded.Chunk(BatchSize))
        {
            var (ids, mask, types) = Pad(batch, tokenizer.PadTokenId);
            float[,,] reference = OnnxReference.LastHiddenState(ids, mask, types);

            float[] ours;
            using (torch.no_grad())
            using (var batchScope = torch.NewDisposeScope())
            {
                ours = encoder.forward(torch.tensor(ids), torch.tensor(mask), torch.tensor(types), null, null)
                    .contiguous().data<float>().ToArray();
            }

            int hidden = reference.GetLength(2), length = ids.GetLength(1);
            Assert.Equal(ids.Length * hidden, ours.Length);
            for (int b = 0; b < batch.Length; b++)
            {
                for (int t = 0; t < length; t++)
                {
                    if (mask[b, t] == 0)
                    {
                        paddedTokens++;
                        continue;
                    }
                    realTokens++;
                    for (int h = 0; h < hidden; h++)
                        maxError = Math.Max(maxError, Math.Abs(ours[((b * length) + t) * hidden + h] - reference[b, t, h]));
                }
            }
        }

        _output.WriteLine($"{Inputs.Length} inputs, {realTokens} real tokens, {paddedTokens} padding positions: " +
                          $"max |ours - ORT| = {maxError:E2} ({clock.Elapsed.TotalSeconds:F1} s)");
        Assert.True(paddedTokens > 0, "the batches must contain padding");
        Assert.True(maxError <= Tolerance, $"max abs error {maxError} > {Tolerance} over {realTokens} real tokens");
    }

    private static (long[,] Ids, long[,] Mask, long[,] Types) Pad(EncodedText[] batch, int padTokenId)
    {
        int length = batch.Max(e => e.InputIds.Length);
        var ids = new long[batch.Length, length];
        var mask = new long[batch.Length, length];
        var types = new long[batch.Length, length];
        for (int b = 0; b < batch.Length; b++)
        {
            for (int t = 0; t < length; t++)
            {
                bool real = t < batch[b].InputIds.Length;
                ids[b, t] = real ? batch[b].InputIds[t] : padTokenId;
                mask[b, t] = real ? 1 : 0;
                types[b, t] = real ? batch[b].TokenTypeIds[t] : 0;
            }
        }
        return (ids, mask, types);
    }
}
