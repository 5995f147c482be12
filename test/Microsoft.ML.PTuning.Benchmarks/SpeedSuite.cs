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

/// <summary>One method's training-step timing on the fixed batch.</summary>
internal sealed record MethodSpeed(string Method, double StepSeconds, double TokensPerSecond, double Mfu, double PeakRssMb,
    int PrefixLength, double GflopPerStep, long TrainableParameters, IReadOnlyList<double> StepTimes);

/// <summary>Inference throughput of one engine at one batch size and sequence length.</summary>
internal sealed record InferenceSpeed(string Engine, int Batch, int SequenceLength, double SequencesPerSecond, int Threads);

/// <summary>speed.json: the issue's fields, then what explains them.</summary>
internal sealed record SpeedResult(double MatmulGflops, double MatmulGflopsBf16, IReadOnlyList<MethodSpeed> Methods, IReadOnlyList<InferenceSpeed> Inference,
    IReadOnlyList<EpochSpeed> Epochs, IReadOnlyList<EndToEndSpeed> EndToEnd, IReadOnlyList<LatencySpeed> Latency,
    long ZipBytes, long BaseWeightBytes, string Profile, int Batch, int SequenceLength, string Machine, double WallSeconds);

/// <summary>
/// The speed suite, all in one process: the fp32 and bf16 matmul ceilings, one training step per method on a fixed
/// 32 × 128 batch of real text (the library's own trainer, one step per call), inference of our encoder against ONNX
/// Runtime on the same MiniLM ONNX file with the same threads, a task zip against the base weights, then what users wait
/// for: epoch time on Banking77's own length mix, end-to-end sentences/s through <c>Transform</c> against an ONNX Runtime
/// pipeline, and <c>PredictionEngine</c> latency.
/// </summary>
internal sealed class SpeedSuite
{
    private const int BatchSize = 32;
    private const int Tokens = 128;
    private const int PrefixLength = 32;

    private readonly BenchmarkArguments _args;
    private readonly SpeedProfile _profile;
    private readonly string _baseModel;

    public SpeedSuite(BenchmarkArguments args, string baseModel)
    {
        _args = args;
        _baseModel = baseModel;
        _profile = args.Quick ? SpeedProfile.Quick : SpeedProfile.Full;
    }

    public void Run()
    {
        var clock = Stopwatch.StartNew();
        int threads = Environment.ProcessorCount;
        torch.set_num_threads(threads);
        Log.Line($"Speed suite, profile '{_profile.Name}' ({_profile.WarmupSteps} warm-up + {_profile.TimedSteps} timed steps per method, " +
            $"{_profile.InferenceRepeats} inference repeats), {threads} threads.");
        if (_args.Quick)
            Log.Line("QUICK PROFILE: fewer timed steps and repeats; numbers are noisier than the full profile's.");

        var mlContext = new MLContext(seed: Datasets.Seed);
        var texts = Datasets.Banking77(mlContext, _args.DataFolder, null, null, null);
        var baseModel = BaseModel.Load(_baseModel, torch.CPU, log: null);

        // The ceiling is the best matmul rate seen at any of several moments of the run: on a shared machine a single
        // measurement taken while a neighbour is busy would understate it and overstate MFU.
        var ceilings = new List<double> { MatmulGflops() };
        var bf16Ceilings = new List<double> { MatmulGflops(ScalarType.BFloat16) };
        Log.Line($"matmul {_profile.MatmulSize}×{_profile.MatmulSize}: fp32 {ceilings[0]:F1}, bf16 {bf16Ceilings[0]:F1} GFLOP/s (best of {_profile.MatmulRepeats} each)");

        var intents = texts.Train.Select(r => r.Intent).Distinct().Order(StringComparer.Ordinal).ToList();
        var rows = FixedRows(baseModel, texts.Train, Tokens);
        var examples = rows.Select(r => new TrainingExample(new EncodedText(r.Ids, r.Types), new[] { intents.IndexOf(r.FirstIntent) })).ToList();
        var timed = new List<(TuningMethod Method, double Seconds, List<double> Times, double PeakMb, long Trainable)>();
        foreach (var method in new[] { TuningMethod.PrefixTuning, TuningMethod.PromptTuning, TuningMethod.LinearProbe, TuningMethod.FullFineTuning })
        {
            timed.Add(TimeSteps(baseModel, method, examples, intents.Count));
            ceilings.Add(MatmulGflops());
            bf16Ceilings.Add(MatmulGflops(ScalarType.BFloat16));
        }
        double gflops = ceilings.Max(), bf16Gflops = bf16Ceilings.Max();
        Log.Line($"fp32 matmul ceiling: {gflops:F1} GFLOP/s (best of the measurements {string.Join(", ", ceilings.Select(c => c.ToString("F1")))})");
        Log.Line($"bf16 matmul ceiling: {bf16Gflops:F1} GFLOP/s (best of the measurements {string.Join(", ", bf16Ceilings.Select(c => c.ToString("F1")))}); bf16 / fp32 {bf16Gflops / gflops:F2}×");
        var methods = timed.Select(t => Summarize(baseModel, t.Method, t.Seconds, t.Times, t.PeakMb, t.Trainable, intents.Count, gflops)).ToList();
        EpochSpeedRows.Run(baseModel, texts, _args.Quick, _args.OutputFolder);

        var inference = new List<InferenceSpeed>();
        using var onnx = CreateOnnxSession(threads);
        foreach (int length in _profile.InferenceLengths)
        {
            var batchRows = length == Tokens ? rows : FixedRows(baseModel, texts.Train, length);
            foreach (int batch in new[] { 1, BatchSize })
            {
                var used = batch == 1 ? batchRows.Take(_profile.BatchOneRows).ToList() : batchRows;
                inference.Add(TimeOurs(baseModel, used, batch, threads));
                inference.Add(TimeOnnx(onnx, used, batch, threads));
                Log.Line($"inference batch {batch} × {length}: ours {inference[^2].SequencesPerSecond:F1} seq/s, ONNX Runtime {inference[^1].SequencesPerSecond:F1} seq/s");
            }
        }

        new PrecisionSuite(_args, _baseModel).Run();   // fp32 and bf16 rows: precision.md / precision.json

        long zipBytes = TaskZipBytes(mlContext, texts);
        long baseBytes = MiniLM.WeightBytes(_baseModel);
        Log.Line($"task zip (PrefixTuning P={PrefixLength}, 77 intents): {zipBytes:N0} bytes; base weights {baseBytes:N0} bytes ({100.0 * zipBytes / baseBytes:F2} %)");

        // What users wait for. Each epoch variant is a label and an options callback (precision, depth, batching); a further
        // one is one line: epochs.Add(EpochTime.Time("label", mlContext, texts, _baseModel, _profile.EpochRows, _profile.Epochs, PrefixLength, o => ...)).
        var test = texts.Test.Take(_profile.EndToEndRows ?? int.MaxValue).ToList();
        var (prefixEpoch, trainedPrefix) = EpochTime.Measure($"PrefixTuning P={PrefixLength}", mlContext, texts, _baseModel, _profile.EpochRows, _profile.Epochs, PrefixLength);
        using var prefixModel = trainedPrefix;
        // The same run over a bf16 backbone (Precision = BFloat16): its epoch, and its end-to-end row beside fp32's.
        var (bf16Epoch, trainedBf16) = EpochTime.Measure($"PrefixTuning P={PrefixLength} BFloat16", mlContext, texts, _baseModel, _profile.EpochRows,
            _profile.Epochs, PrefixLength, o => o.Precision = ComputePrecision.BFloat16);
        using var bf16Model = trainedBf16;
        var epochs = new List<EpochSpeed> { prefixEpoch, bf16Epoch };
        var probeOptions = Banking77Task.Options(_baseModel, prefixLength: 1, epochs: 1, o =>
        {
            o.Method = TuningMethod.LinearProbe;
            o.LearningRate = 5e-3;
        });
        using var probe = mlContext.Transforms.Text.PrefixTuning(probeOptions).Fit(Banking77Task.KeyedTrain(mlContext, texts, _profile.ProbeRows));
        var endToEnd = new List<EndToEndSpeed>
        {
            EndToEndThroughput.Measure(prefixEpoch.Variant, mlContext, prefixModel, onnx, test, threads),
            EndToEndThroughput.Measure(bf16Epoch.Variant, mlContext, bf16Model, onnx, test, threads),
            EndToEndThroughput.Measure("LinearProbe (encoder = the ONNX file's)", mlContext, probe, onnx, test, threads),
        };
        var latency = PredictionLatency.Measure(prefixEpoch.Variant, mlContext, prefixModel, new OnnxPeerPipeline(onnx, prefixModel), test, _profile.LatencyWarmup, _profile.LatencyCalls);

        clock.Stop();
        var result = new SpeedResult(gflops, bf16Gflops, methods, inference, epochs, endToEnd, latency, zipBytes, baseBytes, _profile.Name, BatchSize, Tokens,
            Report.Machine(), clock.Elapsed.TotalSeconds);
        Report.WriteJson(Path.Combine(_args.OutputFolder, "speed.json"), result);
        var plots = SpeedReport.WritePlots(_args.OutputFolder, result);
        SpeedReport.WriteMarkdown(Path.Combine(_args.OutputFolder, "speed.md"), result, plots, _args.Quick, _baseModel);
        Log.Line($"Speed suite ({_profile.Name} profile) finished in {clock.Elapsed:hh\\:mm\\:ss}; wrote speed.json, speed.md and {plots.Count} plots to {_args.OutputFolder}.");
    }

    /// <summary>Best GFLOP/s of an n×n by n×n matmul in <paramref name="dtype"/> over the profile's repeats (<see cref="MatmulCeiling"/>).</summary>
    private double MatmulGflops(ScalarType dtype = ScalarType.Float32) => MatmulCeiling.Gflops(_profile.MatmulSize, _profile.MatmulRepeats, dtype);

    /// <summary>
    /// 32 rows of exactly <paramref name="length"/> tokens of real text: consecutive Banking77 queries joined until the
    /// tokenizer's truncation fills the row (so no padding).
    /// </summary>
    internal static List<(int[] Ids, int[] Types, string FirstIntent)> FixedRows(BaseModel baseModel, IReadOnlyList<TextRow> source, int length)
    {
        var rows = new List<(int[], int[], string)>();
        int next = 0;
        while (rows.Count < BatchSize)
        {
            string first = source[next % source.Count].Intent;
            var text = new System.Text.StringBuilder();
            EncodedText encoded;
            do
            {
                text.Append(source[next++ % source.Count].Text).Append(' ');
                encoded = baseModel.Tokenizer.Encode(text.ToString(), null, length);
            }
            while (encoded.InputIds.Length < length);
            rows.Add((encoded.InputIds, encoded.TokenTypeIds, first));
        }
        return rows;
    }

    private (TuningMethod Method, double Seconds, List<double> Times, double PeakMb, long Trainable) TimeSteps(
        BaseModel baseModel, TuningMethod method, List<TrainingExample> examples, int classes)
    {
        int length = method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning ? PrefixLength : 0;
        var spec = new TaskSpec(TaskKind.SequenceClassification, classes, method, Math.Max(1, length));
        var times = new List<double>();
        long trainable;
        double peak;
        using (var memory = MemorySampler.Start())
        {
            torch.manual_seed(Datasets.Seed);
            var model = TaskModels.CreateForTraining(baseModel, spec, new AdapterTraining(PrefixProjection: false, PrefixHiddenSize: 512, Dropout: 0.1));
            try
            {
                int steps = _profile.WarmupSteps + _profile.TimedSteps;
                var settings = new TrainerSettings(LearningRate: 1e-3, ProjectionLearningRate: PrefixTuningOptions.DefaultProjectionLearningRate, WeightDecay: 0, WarmupRatio: 0, ClipNorm: 1.0, BatchSize: BatchSize,
                    MaxEpochs: steps, EarlyStoppingPatience: 0, Seed: Datasets.Seed);
                // One epoch of this trainer is one optimizer step over the fixed batch: the library's own step, timed as a whole.
                using var trainer = new PrefixTuningTrainer(model, examples, settings, tokenLabels: false, baseModel.Tokenizer.PadTokenId,
                    torch.CPU, validate: null, progress: null, log: null, CancellationToken.None);
                trainable = trainer.TrainableParameterCount;
                for (int step = 0; step < steps; step++)
                {
                    var sw = Stopwatch.StartNew();
                    trainer.RunEpoch();
                    double seconds = sw.Elapsed.TotalSeconds;
                    if (step >= _profile.WarmupSteps)
                        times.Add(seconds);
                    Log.Progress($"  {method}: step {step + 1}/{steps} {seconds:F2} s{(step < _profile.WarmupSteps ? " (warm-up)" : "")}");
                }
            }
            finally
            {
                if (method == TuningMethod.FullFineTuning)
                    model.Backbone.Dispose();
                model.Dispose();
            }
            peak = memory.PeakMb;
        }
        double median = Median(times);
        Log.Line($"  {method}{(length > 0 ? $" P={length}" : "")}: {median:F3} s/step (median of {times.Count}), {BatchSize * Tokens / median:F0} tokens/s, " +
            $"peak RSS {peak:F0} MB, {trainable:N0} trainable");
        return (method, median, times, peak, trainable);
    }

    private static MethodSpeed Summarize(BaseModel baseModel, TuningMethod method, double seconds, List<double> times, double peakMb,
        long trainable, int classes, double gflops)
    {
        int length = method is TuningMethod.PrefixTuning or TuningMethod.PromptTuning ? PrefixLength : 0;
        double flops = TrainingFlops.PerStep(baseModel.Config, method, BatchSize, Tokens, length, classes);
        var result = new MethodSpeed(method.ToString(), seconds, BatchSize * Tokens / seconds, flops / seconds / (gflops * 1e9), peakMb,
            length, flops / 1e9, trainable, times);
        Log.Line($"  {method}: {result.GflopPerStep:F0} GFLOP/step, MFU {result.Mfu:P1}");
        return result;
    }

    private InferenceSpeed TimeOurs(BaseModel baseModel, List<(int[] Ids, int[] Types, string)> rows, int batch, int threads)
    {
        var encoder = baseModel.Encoder;
        encoder.eval();
        var batches = Batches(rows, batch).Select(b => TokenBatch.Collate(b.Select(r => new EncodedText(r.Ids, r.Types)).ToList(),
            baseModel.Tokenizer.PadTokenId, torch.CPU)).ToList();
        try
        {
            void Pass()
            {
                foreach (var b in batches)
                {
                    using var scope = NewDisposeScope();
                    using var noGrad = no_grad();
                    encoder.forward(b.InputIds, b.AttentionMask, b.TokenTypeIds, null, null);
                }
            }
            return new InferenceSpeed("TorchSharp (ours)", batch, rows[0].Ids.Length, TimePasses(Pass, rows.Count), threads);
        }
        finally
        {
            foreach (var b in batches)
                b.Dispose();
        }
    }

    /// <summary>An ONNX Runtime session on the MiniLM ONNX file with <paramref name="threads"/> intra-op threads, sequential, all graph optimizations.</summary>
    internal static InferenceSession CreateOnnxSession(int threads)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };
        return new InferenceSession(MiniLM.OnnxBytes(), options);
    }

    private InferenceSpeed TimeOnnx(InferenceSession session, List<(int[] Ids, int[] Types, string)> rows, int batch, int threads)
    {
        var inputs = Batches(rows, batch).Select(b =>
        {
            int length = b[0].Ids.Length;
            int[] dims = { b.Count, length };
            NamedOnnxValue Input(string name, Func<(int[] Ids, int[] Types, string), int, long> value) =>
                NamedOnnxValue.CreateFromTensor(name, new DenseTensor<long>(b.SelectMany(r => Enumerable.Range(0, length).Select(t => value(r, t))).ToArray(), dims));
            return new List<NamedOnnxValue>
            {
                Input("input_ids", (r, t) => r.Ids[t]),
                Input("attention_mask", (_, _) => 1),
                Input("token_type_ids", (r, t) => r.Types[t]),
            };
        }).ToList();
        string[] outputs = { "last_hidden_state" };
        void Pass()
        {
            foreach (var input in inputs)
            {
                using var results = session.Run(input, outputs);
            }
        }
        return new InferenceSpeed("ONNX Runtime", batch, rows[0].Ids.Length, TimePasses(Pass, rows.Count), threads);
    }

    /// <summary>Sequences per second of the best of several passes over all rows, after one warm-up pass.</summary>
    private double TimePasses(Action pass, int sequences)
    {
        pass();
        double best = double.MaxValue;
        for (int i = 0; i < _profile.InferenceRepeats; i++)
        {
            var sw = Stopwatch.StartNew();
            pass();
            best = Math.Min(best, sw.Elapsed.TotalSeconds);
        }
        return sequences / best;
    }

    internal static IEnumerable<List<T>> Batches<T>(List<T> rows, int size)
    {
        for (int i = 0; i < rows.Count; i += size)
            yield return rows.Skip(i).Take(size).ToList();
    }

    /// <summary>A Banking77 task trained briefly through the public API (prefix length 32, one epoch on 64 rows) and saved.</summary>
    private long TaskZipBytes(MLContext mlContext, Splits<TextRow> texts)
    {
        var keyed = Banking77Task.KeyedTrain(mlContext, texts, 64);
        using var model = mlContext.Transforms.Text.PrefixTuning(Banking77Task.Options(_baseModel, PrefixLength, 1, o => o.MaxSequenceLength = 64)).Fit(keyed);
        string path = Path.Combine(_args.OutputFolder, "speed-task.zip");
        mlContext.Model.SaveAtomically(model, keyed.Schema, path);
        return new FileInfo(path).Length;
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        int mid = sorted.Count / 2;
        return sorted.Count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }
}
