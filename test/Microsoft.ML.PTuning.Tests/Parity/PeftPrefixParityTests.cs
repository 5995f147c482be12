using System.Text.Json;
using Microsoft.ML.PTuning.Checkpoints;
using Microsoft.ML.PTuning.Modeling;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Parity;

/// <summary>
/// Our encoder and prefix-tuned models against Hugging Face transformers 5.17 + PEFT 0.21 on the fixtures in
/// test/fixtures/hf/&lt;case&gt;/ (make_hf_fixtures.py): a tiny random base model, a PEFT prefix-tuning adapter, a
/// right-padded batch, PEFT's eval-mode logits and the plain encoder's last hidden state.
/// </summary>
public class PeftPrefixParityTests
{
    private const double Tolerance = 1e-4;

    private readonly ITestOutputHelper _output;

    public PeftPrefixParityTests(ITestOutputHelper output) => _output = output;

    public static TheoryData<string> Cases => new() { "roberta-seq-prefix", "roberta-token-prefix-projection", "bert-seq-prefix" };

    private static string CaseFolder(string name) => Path.Combine(TestPaths.RepoRoot, "test", "fixtures", "hf", name);

    [Theory]
    [MemberData(nameof(Cases))]
    public void PlainEncoderEqualsHuggingFace(string name)
    {
        using var scope = torch.NewDisposeScope();
        var fixture = Fixture.Read(CaseFolder(name));
        using var checkpoint = HuggingFaceCheckpoint.Load(Path.Combine(CaseFolder(name), "base"));
        using TransformerEncoder encoder = checkpoint.CreateEncoder();
        encoder.eval();

        Tensor hidden;
        using (torch.no_grad())
            hidden = encoder.forward(fixture.InputIds, fixture.AttentionMask, fixture.TokenTypeIds, null, null);

        AssertClose(fixture.PlainLastHiddenState, hidden, $"{name} last_hidden_state");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void PrefixTunedLogitsEqualPeft(string name)
    {
        using var scope = torch.NewDisposeScope();
        var fixture = Fixture.Read(CaseFolder(name));
        using var checkpoint = HuggingFaceCheckpoint.Load(Path.Combine(CaseFolder(name), "base"));
        using TransformerEncoder encoder = checkpoint.CreateEncoder();
        using var adapter = PeftAdapter.Load(Path.Combine(CaseFolder(name), "adapter"));

        Assert.Equal(fixture.PrefixLength, adapter.NumVirtualTokens);
        Assert.Equal(fixture.Task == "token" ? TaskKind.TokenClassification : TaskKind.SequenceClassification, adapter.Task);
        Assert.Equal(fixture.NumLabels, adapter.NumLabels);
        Assert.Equal(fixture.Projection, adapter.PrefixProjection);

        // As the brief of the fixtures: method PrefixTuning, P from expected.json; projection is irrelevant since PEFT
        // saved the table the MLP computes.
        using var model = new PrefixTunedModel(encoder, adapter.Task, fixture.NumLabels, TuningMethod.PrefixTuning,
            fixture.PrefixLength, prefixProjection: fixture.Projection, prefixHiddenSize: 16);
        model.LoadAdapterStateDict(adapter.StateDict);
        model.eval();

        Tensor logits;
        using (torch.no_grad())
            logits = model.forward(fixture.InputIds, fixture.AttentionMask, fixture.TokenTypeIds);

        AssertClose(fixture.Logits, logits, $"{name} logits");

        // The one-call form gives the same model.
        using PrefixTunedModel created = adapter.CreateModel(encoder);
        created.eval();
        using (torch.no_grad())
            Assert.True(created.forward(fixture.InputIds, fixture.AttentionMask, fixture.TokenTypeIds).eq(logits).all().item<bool>());
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheAdapterChangesTheLogits(string name)
    {
        // Guards the parity above against a prefix or head that does nothing: without the adapter's prefix (a zero
        // table attends nowhere useful) the logits must move by far more than the tolerance.
        using var scope = torch.NewDisposeScope();
        var fixture = Fixture.Read(CaseFolder(name));
        using var checkpoint = HuggingFaceCheckpoint.Load(Path.Combine(CaseFolder(name), "base"));
        using TransformerEncoder encoder = checkpoint.CreateEncoder();
        using var adapter = PeftAdapter.Load(Path.Combine(CaseFolder(name), "adapter"));
        var state = adapter.StateDict.ToDictionary(kv => kv.Key, kv => kv.Value);
        state[PrefixTunedModel.PromptEmbeddingsKey] = torch.zeros_like(state[PrefixTunedModel.PromptEmbeddingsKey]);
        using PrefixTunedModel model = adapter.CreateModel(encoder);
        model.LoadAdapterStateDict(state);
        model.eval();

        Tensor logits;
        using (torch.no_grad())
            logits = model.forward(fixture.InputIds, fixture.AttentionMask, fixture.TokenTypeIds);

        double diff = (logits - fixture.Logits).abs().max().item<float>();
        _output.WriteLine($"{name}: max |zero-prefix logits - PEFT| = {diff:E2}");
        Assert.True(diff > 100 * Tolerance, $"{name}: a zero prefix still gives PEFT's logits (max diff {diff}).");
    }

    private void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.Equal(expected.shape, actual.shape);
        double maxError = (expected - actual).abs().max().item<float>();
        _output.WriteLine($"{what}: max abs error {maxError:E2}");
        Assert.True(maxError <= Tolerance, $"{what}: max abs error {maxError} > {Tolerance}");
    }

    /// <summary>One case's expected.json.</summary>
    private sealed record Fixture(
        string Task, int NumLabels, int PrefixLength, bool Projection,
        Tensor InputIds, Tensor AttentionMask, Tensor TokenTypeIds, Tensor Logits, Tensor PlainLastHiddenState)
    {
        public static Fixture Read(string folder)
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(folder, "expected.json")));
            JsonElement root = document.RootElement;
            return new Fixture(
                root.GetProperty("task").GetString()!,
                root.GetProperty("num_labels").GetInt32(),
                root.GetProperty("prefix_length").GetInt32(),
                root.GetProperty("projection").GetBoolean(),
                NestedArray(root.GetProperty("input_ids"), ScalarType.Int64),
                NestedArray(root.GetProperty("attention_mask"), ScalarType.Int64),
                NestedArray(root.GetProperty("token_type_ids"), ScalarType.Int64),
                NestedArray(root.GetProperty("logits"), ScalarType.Float32),
                NestedArray(root.GetProperty("plain_last_hidden_state"), ScalarType.Float32));
        }

        // A rectangular nested JSON array as a tensor of its shape.
        private static Tensor NestedArray(JsonElement array, ScalarType dtype)
        {
            var shape = new List<long>();
            for (JsonElement e = array; e.ValueKind == JsonValueKind.Array; e = e[0])
                shape.Add(e.GetArrayLength());
            var values = new List<double>();
            void Flatten(JsonElement e)
            {
                if (e.ValueKind == JsonValueKind.Array)
                {
                    foreach (JsonElement child in e.EnumerateArray())
                        Flatten(child);
                }
                else
                {
                    values.Add(e.GetDouble());
                }
            }
            Flatten(array);
            Assert.Equal(shape.Aggregate(1L, (a, b) => a * b), values.Count);
            return torch.tensor(values.ToArray(), shape.ToArray()).to_type(dtype);
        }
    }
}
