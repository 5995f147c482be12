using System.Diagnostics;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Samples;
using Microsoft.ML.PTuning.Tokenization;
using Microsoft.ML.PTuning.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// The precision rows of the speed suite (also alone: <c>-- precision</c>): fp32 and bf16 matmul ceilings, a training
/// step of every method in both precisions (step time, MFU against the ceiling of the precision used, peak RSS) and
/// encoder inference in both precisions against ONNX Runtime fp32. On a shared, noisy machine only ratios measured in
/// one process mean something, so the steps are interleaved (round r times every method in both precisions) and each
/// figure is a median over rounds; the ceilings are the best of several moments of the run.
/// </summary>
internal sealed class PrecisionSuite
{
    private const int Batch = 32, Tokens = 128, PrefixLength = 32;
    private static readonly ComputePrecision[] Precisions = { ComputePrecision.Float32, ComputePrecision.BFloat16 };

    private readonly BenchmarkArguments _args;
    private readonly string _baseModel;
    private readonly int _rounds;

    public PrecisionSuite(BenchmarkArguments args, string baseModel)
    {
        _args = args;
        _baseModel = baseModel;
        _rounds = args.Quick ? 3 : 7;
    }

    /// <summary>One method in one precision: median step, MFU, the peak RSS of its own first steps (see <see cref="Run"/>).</summary>
    internal sealed record StepRow(string Method, string Precision, double StepSeconds, double Mfu, double PeakRssMb, double RssAboveStartMb, IReadOnlyList<double> Times);

    internal sealed record InferenceRow(string Engine, string Precision, int Batch, int Tokens, double SequencesPerSecond);

    internal sealed record Result(double Fp32Gflops, double Bf16Gflops, IReadOnlyList<StepRow> Steps, IReadOnlyList<InferenceRow> Inference,
        int Rounds, string Machine);

    public void Run()
    {
        torch.set_num_threads(Environment.ProcessorCount);
        Log.Line($"Precision rows: {_rounds} interleaved rounds per method and precision, batch {Batch} × {Tokens}, prefix {PrefixLength}.");
        var mlContext = new MLContext(seed: Datasets.Seed);
        var texts = Datasets.Banking77(mlContext, _args.DataFolder, null, null, null);
        var bases = Precisions.ToDictionary(p => p, p => BaseModel.Load(_baseModel, torch.CPU, log: null, p));
        var intents = texts.Train.Select(r => r.Intent).Distinct().Order(StringComparer.Ordinal).ToList();
        var rows = SpeedSuite.FixedRows(bases[ComputePrecision.Float32], texts.Train, Tokens);
        var examples = rows.Select(r => new TrainingExample(new EncodedText(r.Ids, r.Types), new[] { intents.IndexOf(r.FirstIntent) })).ToList();

        var ceilings = Precisions.ToDictionary(p => p, p => new List<double> { MatmulGflops(p) });
        var methods = new[] { TuningMethod.PrefixTuning, TuningMethod.PromptTuning, TuningMethod.LinearProbe, TuningMethod.FullFineTuning };
        var configs = methods.SelectMany(m => Precisions.Select(p => (Method: m, Precision: p))).ToList();

        // Memory: each configuration alone (the others not yet built) through its first (warm-up) step.
        var trainers = new Dictionary<(TuningMethod, ComputePrecision), (PrefixTunedModel Model, PrefixTuningTrainer Trainer, double PeakMb, double AboveMb)>();
        foreach (var (method, precision) in configs)
        {
            using var memory = MemorySampler.Start();
            var (model, trainer) = Create(bases[precision], method, examples, intents.Count);
            trainer.RunEpoch();
            trainers[(method, precision)] = (model, trainer, memory.PeakMb, memory.PeakMb - memory.StartMb);
            Log.Line($"  {method} {precision}: warm-up step done, peak RSS {memory.PeakMb:F0} MB ({memory.PeakMb - memory.StartMb:F0} MB above its start)");
        }

        var times = configs.ToDictionary(c => c, _ => new List<double>());
        for (int round = 0; round < _rounds; round++)
        {
            foreach (var config in configs)
            {
                var sw = Stopwatch.StartNew();
                trainers[config].Trainer.RunEpoch();
                times[config].Add(sw.Elapsed.TotalSeconds);
            }
            foreach (var p in Precisions)
                ceilings[p].Add(MatmulGflops(p));
            Log.Progress($"  round {round + 1}/{_rounds}: " + string.Join(", ", configs.Select(c => $"{c.Method} {Short(c.Precision)} {times[c][^1]:F2} s")));
        }

        double fp32 = ceilings[ComputePrecision.Float32].Max(), bf16 = ceilings[ComputePrecision.BFloat16].Max();
        Log.Line($"matmul ceilings: fp32 {fp32:F1}, bf16 {bf16:F1} GFLOP/s ({bf16 / fp32:F2}×)");
        var steps = configs.Select(c =>
        {
            double median = SpeedSuite.Median(times[c]);
            double flops = TrainingFlops.PerStep(bases[c.Precision].Config, c.Method, Batch, Tokens, UsesPrefix(c.Method) ? PrefixLength : 0, intents.Count);
            double ceiling = c.Precision == ComputePrecision.BFloat16 ? bf16 : fp32;
            var t = trainers[c];
            var row = new StepRow(c.Method.ToString(), c.Precision.ToString(), median, flops / median / (ceiling * 1e9), t.PeakMb, t.AboveMb, times[c]);
            Log.Line($"  {row.Method} {row.Precision}: {median:F3} s/step (median of {times[c].Count}), MFU {row.Mfu:P1}, peak RSS {row.PeakRssMb:F0} MB");
            return row;
        }).ToList();
        foreach (var (model, trainer, _, _) in trainers.Values)
        {
            trainer.Dispose();
            if (model.Method == TuningMethod.FullFineTuning)
                model.Backbone.Dispose();
            model.Dispose();
        }

        var inference = Inference(bases, texts.Train);
        var result = new Result(fp32, bf16, steps, inference, _rounds, Report.Machine());
        Report.WriteJson(Path.Combine(_args.OutputFolder, "precision.json"), result);
        File.WriteAllText(Path.Combine(_args.OutputFolder, "precision.md"), Markdown(result));
        Log.Line($"Precision rows written to {Path.Combine(_args.OutputFolder, "precision.md")}.");
    }

    private static bool UsesPrefix(TuningMethod method) => method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning;

    private static string Short(ComputePrecision p) => p == ComputePrecision.BFloat16 ? "bf16" : "fp32";

    private static (PrefixTunedModel, PrefixTuningTrainer) Create(BaseModel baseModel, TuningMethod method, List<TrainingExample> examples, int classes)
    {
        var spec = new TaskSpec(TaskKind.SequenceClassification, classes, method, UsesPrefix(method) ? PrefixLength : 1);
        torch.manual_seed(Datasets.Seed);
        var model = TaskModels.CreateForTraining(baseModel, spec, new AdapterTraining(PrefixProjection: false, PrefixHiddenSize: 512, Dropout: 0.1));
        var settings = new TrainerSettings(LearningRate: 1e-3, ProjectionLearningRate: PrefixTuningOptions.DefaultProjectionLearningRate, WeightDecay: 0,
            WarmupRatio: 0, ClipNorm: 1.0, BatchSize: Batch, MaxEpochs: 1000, EarlyStoppingPatience: 0, Seed: Datasets.Seed);
        // One epoch of this trainer is one optimizer step over the fixed batch; the trainer runs under the base's gate.
        var trainer = new PrefixTuningTrainer(model, examples, settings, tokenLabels: false, baseModel.Tokenizer.PadTokenId, torch.CPU,
            validate: null, progress: null, log: null, CancellationToken.None, baseModel.ModeGate);
        return (model, trainer);
    }

    /// <summary>Our encoder in both precisions and ONNX Runtime fp32, interleaved, best of the rounds, at 32 × 128, 1 × 128, 32 × 32, 1 × 32.</summary>
    private List<InferenceRow> Inference(Dictionary<ComputePrecision, BaseModel> bases, IReadOnlyList<TextRow> source)
    {
        var result = new List<InferenceRow>();
        using var onnx = SpeedSuite.CreateOnnxSession(Environment.ProcessorCount);
        foreach (int tokens in new[] { 128, 32 })
        {
            var rows = SpeedSuite.FixedRows(bases[ComputePrecision.Float32], source, tokens);
            foreach (int batch in new[] { Batch, 1 })
            {
                var used = rows.Take(batch == 1 ? 8 : Batch).ToList();
                var passes = new List<(string Engine, string Precision, Action Pass)>();
                foreach (var p in Precisions)
                    passes.Add(("TorchSharp (ours)", Short(p), OursPass(bases[p], used, batch)));
                passes.Add(("ONNX Runtime", "fp32", OnnxPass(onnx, used, batch)));
                var best = passes.Select(_ => double.MaxValue).ToArray();
                for (int round = 0; round < _rounds; round++)
                {
                    for (int i = 0; i < passes.Count; i++)
                    {
                        if (round == 0)
                            passes[i].Pass();   // warm-up
                        var sw = Stopwatch.StartNew();
                        passes[i].Pass();
                        best[i] = Math.Min(best[i], sw.Elapsed.TotalSeconds);
                    }
                }
                for (int i = 0; i < passes.Count; i++)
                    result.Add(new InferenceRow(passes[i].Engine, passes[i].Precision, batch, tokens, used.Count / best[i]));
                Log.Line($"  inference {batch} × {tokens}: " + string.Join(", ", result.TakeLast(passes.Count).Select(r => $"{r.Engine} {r.Precision} {r.SequencesPerSecond:F1} seq/s")));
            }
        }
        return result;
    }

    private static Action OursPass(BaseModel baseModel, List<(int[] Ids, int[] Types, string FirstIntent)> rows, int batch)
    {
        var batches = SpeedSuite.Batches(rows, batch).Select(b => TokenBatch.Collate(b.Select(r => new EncodedText(r.Ids, r.Types)).ToList(),
            baseModel.Tokenizer.PadTokenId, torch.CPU)).ToList();
        baseModel.Encoder.eval();
        return () =>
        {
            foreach (var b in batches)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                baseModel.Encoder.forward(b.InputIds, b.AttentionMask, b.TokenTypeIds, null, null);
            }
        };
    }

    private static Action OnnxPass(InferenceSession session, List<(int[] Ids, int[] Types, string FirstIntent)> rows, int batch)
    {
        var inputs = SpeedSuite.Batches(rows, batch).Select(b =>
        {
            int length = b[0].Ids.Length;
            int[] dims = { b.Count, length };
            NamedOnnxValue Input(string name, Func<int, int, long> value) => NamedOnnxValue.CreateFromTensor(name,
                new DenseTensor<long>(Enumerable.Range(0, b.Count).SelectMany(r => Enumerable.Range(0, length).Select(t => value(r, t))).ToArray(), dims));
            return new List<NamedOnnxValue>
            {
                Input("input_ids", (r, t) => b[r].Ids[t]),
                Input("attention_mask", (_, _) => 1),
                Input("token_type_ids", (r, t) => b[r].Types[t]),
            };
        }).ToList();
        string[] outputs = { "last_hidden_state" };
        return () =>
        {
            foreach (var input in inputs)
            {
                using var results = session.Run(input, outputs);
            }
        };
    }

    /// <summary>Best GFLOP/s of a 2048² matmul in <paramref name="precision"/> over 5 repeats.</summary>
    private static double MatmulGflops(ComputePrecision precision)
    {
        const int n = 2048;
        using var scope = NewDisposeScope();
        var type = PrecisionSelection.ElementType(precision);
        var a = randn(n, n).to_type(type);
        var b = randn(n, n).to_type(type);
        matmul(a, b).Dispose();
        double best = double.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            var sw = Stopwatch.StartNew();
            matmul(a, b).Dispose();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return 2.0 * n * n * n / best / 1e9;
    }

    private static string Markdown(Result r)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine($"Matmul ceilings (2048², best of the run): fp32 {Report.F(r.Fp32Gflops, "F1")} GFLOP/s, bf16 {Report.F(r.Bf16Gflops, "F1")} GFLOP/s.");
        text.AppendLine();
        text.AppendLine(Report.Table(new[] { "method", "precision", "step (s, median)", "vs fp32", "MFU (own ceiling)", "peak RSS (MB)", "RSS above start (MB)" },
            r.Steps.Select(s =>
            {
                double fp32 = r.Steps.First(o => o.Method == s.Method && o.Precision == nameof(ComputePrecision.Float32)).StepSeconds;
                return (IReadOnlyList<string>)new[] { s.Method, s.Precision, Report.F(s.StepSeconds, "F3"), Report.F(fp32 / s.StepSeconds, "F2") + "×",
                    Report.F(100 * s.Mfu, "F1") + " %", Report.F(s.PeakRssMb, "F0"), Report.F(s.RssAboveStartMb, "F0") };
            })));
        text.AppendLine();
        text.AppendLine(Report.Table(new[] { "engine", "precision", "batch × tokens", "sequences/s", "vs ONNX Runtime fp32" },
            r.Inference.Select(i =>
            {
                double ort = r.Inference.First(o => o.Engine.StartsWith("ONNX", StringComparison.Ordinal) && o.Batch == i.Batch && o.Tokens == i.Tokens).SequencesPerSecond;
                return (IReadOnlyList<string>)new[] { i.Engine, i.Precision, $"{i.Batch} × {i.Tokens}", Report.F(i.SequencesPerSecond, "F1"),
                    Report.F(i.SequencesPerSecond / ort, "F2") + "×" };
            })));
        return text.ToString();
    }
}
