using System.Diagnostics;
using System.Globalization;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>One learning rate tried for a method: its best validation metric and when it was reached.</summary>
/// <remarks>ProjectionLearningRate: the rate the prefix MLP trained at (the option's default), null without projection.</remarks>
internal sealed record SearchPoint(double LearningRate, double ValidationMetric, int BestEpoch, int EpochsRun, double TrainSeconds, double PeakRssMb,
    double? ProjectionLearningRate);

/// <summary>
/// One row of quality.json: a method on a dataset at the learning rate that won the validation search, with its test
/// metric at the best validation epoch. The first thirteen fields are the issue's; the rest explain them.
/// </summary>
internal sealed record QualityRecord(
    string Dataset, string Method, int PrefixLength, bool Projection, double LearningRate, double Metric, double? MacroF1,
    int BestEpoch, double TrainSeconds, long TrainableParameters, long TotalParameters, double PeakRssMb, long ZipBytes,
    string Label, string MetricName, double ValidationMetric, IReadOnlyList<double> ValidationCurve, double StartRssMb,
    IReadOnlyList<SearchPoint> Search);

/// <summary>
/// The quality suite: Banking77 and WNUT-17; P-Tuning v2 at three prefix lengths (and with projection at the best),
/// prompt tuning, a linear probe and full fine-tuning, each with the same learning-rate search on validation.
/// </summary>
internal sealed class QualitySuite
{
    private readonly BenchmarkArguments _args;
    private readonly QualityProfile _profile;
    private readonly string _baseModel;

    public QualitySuite(BenchmarkArguments args, string baseModel, QualityProfile? profile = null)
    {
        _args = args;
        _baseModel = baseModel;
        _profile = profile ?? (args.Quick ? QualityProfile.Quick : QualityProfile.Full);
    }

    public void Run()
    {
        var clock = Stopwatch.StartNew();
        Log.Line($"Quality suite, {_profile.Describe()}.");
        if (_args.Quick)
            Log.Line("QUICK PROFILE: subsampled data, 2 epochs, one learning rate per method. A smoke run, not the published numbers.");
        var mlContext = new MLContext(seed: Datasets.Seed);
        var records = new List<QualityRecord>();
        string jsonPath = Path.Combine(_args.OutputFolder, "quality.json");
        var descriptions = new List<string>();

        QualityDataset[] datasets =
        {
            Banking77Dataset.Load(mlContext, _args.DataFolder, _profile),
            Wnut17Dataset.Load(mlContext, _args.DataFolder, _profile),
        };
        foreach (var dataset in datasets)
        {
            Log.Line(dataset.Description);
            descriptions.Add(dataset.Description);
            int epochs = dataset.Kind == TaskKind.SequenceClassification ? _profile.BankingEpochs : _profile.WnutEpochs;
            var done = new List<QualityRecord>();
            // Each finished method goes to quality.json at once, so a run stopped part-way keeps what it measured.
            void Run(MethodConfig config)
            {
                done.Add(RunMethod(dataset, config, epochs));
                Report.WriteJson(jsonPath, records.Concat(done).ToList());
            }
            foreach (int length in _profile.PrefixLengths)
                Run(new MethodConfig(TuningMethod.PrefixTuning, length, false));
            int best = done.MaxBy(r => r.ValidationMetric)!.PrefixLength;
            Log.Line($"  Best prefix length on validation: {best}; adding the projection (MLP reparameterization) there.");
            Run(new MethodConfig(TuningMethod.PrefixTuning, best, true));
            // Partial depth (issue 14): the prefix in the top half of the layers only, at the same prefix length.
            Run(new MethodConfig(TuningMethod.PrefixTuning, best, false, PrefixDepth: EncoderConfig.Load(Path.Combine(_baseModel, "config.json")).NumHiddenLayers / 2));
            Run(new MethodConfig(TuningMethod.PromptTuning, _profile.PromptLength, false));
            Run(new MethodConfig(TuningMethod.LinearProbe, 0, false));
            // Issue 12: the masked-LM methods, for text, where the base has a masked-LM head (the MiniLM ONNX import has none).
            if (dataset is Banking77Dataset && BaseModel.Load(_baseModel, TorchSharp.torch.CPU, log: null).MaskedLanguageModelHead is not null)
            {
                Run(new MethodConfig(TuningMethod.HandcraftedPrompt, 0, false));
                Run(new MethodConfig(TuningMethod.PTuningV1, _profile.PromptLength, false));
            }
            else if (dataset is Banking77Dataset)
            {
                Log.Line($"  No masked-LM head in '{_baseModel}': no HandcraftedPrompt or PTuningV1 rows.");
            }
            // Last, so the clone of the encoder it trains cannot inflate the other runs' memory.
            Run(new MethodConfig(TuningMethod.FullFineTuning, 0, false));
            records.AddRange(done);
        }

        clock.Stop();
        Report.WriteJson(jsonPath, records);
        var plots = QualityPlots.Write(_args.OutputFolder, records);
        QualityReport.WriteMarkdown(Path.Combine(_args.OutputFolder, "quality.md"), _profile, _args, descriptions, records, plots, clock.Elapsed, _baseModel);
        Log.Line($"Quality suite ({_profile.Name} profile) finished in {clock.Elapsed:hh\\:mm\\:ss}; wrote quality.json, quality.md and {plots.Count} plots to {_args.OutputFolder}.");
    }

    /// <summary>Trains <paramref name="config"/> at each of the profile's learning rates and scores the best on test.</summary>
    internal QualityRecord RunMethod(QualityDataset dataset, MethodConfig config, int epochs)
    {
        var rates = _profile.LearningRates[config.Method];
        var runs = new List<(SearchPoint Point, PrefixTuningTransformer Model, IReadOnlyList<double> Curve, double StartMb)>();
        try
        {
            foreach (double rate in rates)
            {
                string label = $"{dataset.Name} {config.Label} lr {rate.ToString("G3", CultureInfo.InvariantCulture)}";
                Log.Line($"  {label}: training up to {epochs} epochs");
                var recorder = new EpochRecorder(label);
                var clock = Stopwatch.StartNew();
                PrefixTuningTransformer model;
                double peak, start;
                double? projectionRate = null;
                using (var memory = MemorySampler.Start())
                {
                    model = dataset.Fit(o =>
                    {
                        o.BaseModelPath = _baseModel;
                        o.Method = config.Method;
                        o.PrefixLength = Math.Max(1, config.PrefixLength);
                        o.PrefixProjection = config.Projection;
                        o.PrefixDepth = config.PrefixDepth;
                        o.GroupByLength = config.GroupByLength;
                        o.Precision = config.Precision;
                        o.LearningRate = rate;
                        o.MaxEpochs = epochs;
                        o.BatchSize = _profile.BatchSize;
                        o.EarlyStoppingPatience = _profile.Patience;
                        o.Seed = Datasets.Seed;
                        o.Progress = recorder;
                        if (o is PrefixTuningTextClassificationOptions text && dataset is Banking77Dataset banking)
                        {
                            text.PromptTemplate = Banking77Dataset.PromptTemplate(config.Method);
                            text.Verbalizer = banking.LabelWords;
                        }
                        if (o.PrefixProjection)
                            projectionRate = o.EffectiveProjectionLearningRate;
                    });
                    peak = memory.PeakMb;
                    start = memory.StartMb;
                }
                double seconds = clock.Elapsed.TotalSeconds;
                var curve = recorder.ValidationMetrics.ToArray();
                int bestEpoch = BestEpoch(curve);
                var point = new SearchPoint(rate, curve.Length > 0 ? curve[bestEpoch - 1] : double.NaN, bestEpoch, curve.Length, seconds, peak, projectionRate);
                runs.Add((point, model, curve, start));
                Log.Line($"  {label}: best validation {dataset.MetricName} {point.ValidationMetric:F4} at epoch {bestEpoch} ({seconds:F0} s, peak RSS {peak:F0} MB)");
            }

            // The paper's practice: the learning rate with the best validation metric, evaluated on test at its best epoch
            // (the estimator restored that epoch's weights).
            var chosen = runs.MaxBy(r => r.Point.ValidationMetric);
            var (metric, macroF1) = dataset.Evaluate(chosen.Model);
            string zip = Path.Combine(Path.GetTempPath(), $"ptuning-bench-{Guid.NewGuid():N}.zip");
            long zipBytes;
            try
            {
                zipBytes = dataset.ZipBytes(chosen.Model, zip);
            }
            finally
            {
                File.Delete(zip);
            }
            var (trainable, total) = ParameterCounts.Of(_baseModel, dataset.Kind, dataset.ClassCount, config,
                dataset is Banking77Dataset banking ? (Banking77Dataset.PromptTemplate(config.Method), chosen.Model.ClassNames!.Select(c => banking.LabelWords[c]).ToArray()) : null);
            var record = new QualityRecord(dataset.Name, config.Method.ToString(), config.ReportedLength, config.Projection,
                chosen.Point.LearningRate, metric, macroF1, chosen.Point.BestEpoch, chosen.Point.TrainSeconds, trainable, total,
                chosen.Point.PeakRssMb, zipBytes, config.Label, dataset.MetricName, chosen.Point.ValidationMetric, chosen.Curve,
                chosen.StartMb, runs.Select(r => r.Point).ToList());
            Log.Line($"  {dataset.Name} {config.Label}: lr {record.LearningRate:G3} chosen; test {dataset.MetricName} {metric:F4}" +
                (macroF1 is double m ? $", macro-F1 {m:F4}" : "") + $"; {trainable:N0} of {total:N0} parameters trained; zip {zipBytes:N0} bytes");
            return record;
        }
        finally
        {
            foreach (var run in runs)
                run.Model.Dispose();
        }
    }

    /// <summary>The 1-based epoch of the best metric; the first of equals, as the trainer keeps the first.</summary>
    private static int BestEpoch(IReadOnlyList<double> curve)
    {
        int best = 0;
        for (int i = 1; i < curve.Count; i++)
        {
            if (curve[i] > curve[best])
                best = i;
        }
        return best + 1;
    }
}

/// <summary>Parameter counts of a method's training-time model, from the library's own model builder.</summary>
internal static class ParameterCounts
{
    /// <summary>Trainable scalars (adapter or MLP, head, encoder for full fine-tuning) and all scalars of the model.</summary>
    public static (long Trainable, long Total) Of(string baseModelFolder, TaskKind kind, int classCount, MethodConfig config,
        (string Template, string[][] LabelWords)? prompt = null)
    {
        var baseModel = BaseModel.Load(baseModelFolder, TorchSharp.torch.CPU, log: null);
        bool maskedLm = config.Method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1;
        var spec = new TaskSpec(kind, classCount, config.Method, Math.Max(1, config.PrefixLength), config.PrefixDepth)
        {
            PromptTemplate = maskedLm ? prompt?.Template : null,
            LabelWords = maskedLm ? prompt?.LabelWords : null,
        };
        using var model = TaskModels.CreateForTraining(baseModel, spec, new AdapterTraining(config.Projection, PrefixHiddenSize: 512, Dropout: 0.1));
        long trainable = model.TrainableParameters().Sum(p => p.numel());
        long adapterAndHead = model.parameters().Sum(p => p.numel());
        long backbone = model.Backbone.parameters().Sum(p => p.numel());
        if (config.Method == TuningMethod.FullFineTuning)
            model.Backbone.Dispose();
        return (trainable, backbone + adapterAndHead);
    }
}
