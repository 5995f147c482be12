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
/// A method's learning-rate search at a fixed budget (a <see cref="QualityProfile"/>), scored on test at the winner: what
/// the depth and projection studies compare variants with. The quality benchmark itself is <see cref="ConvergedQualitySuite"/>.
/// </summary>
internal sealed class QualitySuite
{
    private readonly BenchmarkArguments _args;
    private readonly QualityProfile _profile;
    private readonly string _baseModel;

    public QualitySuite(BenchmarkArguments args, string baseModel, QualityProfile profile)
    {
        _args = args;
        _baseModel = baseModel;
        _profile = profile;
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
                        Configure(o, dataset, _baseModel, config, rate, epochs, _profile.BatchSize, _profile.Patience, Datasets.Seed, recorder);
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
            long zipBytes = dataset.ZipBytes(chosen.Model);
            var (trainable, total) = ParameterCounts.Of(_baseModel, dataset.Kind, dataset.ClassCount, config,
                prompt: ParameterCounts.PromptOf(dataset, config, chosen.Model));
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

    /// <summary>The options of one run: the base, the method's shape, the rate, the budget and the seed.</summary>
    internal static void Configure(PrefixTuningOptions o, QualityDataset dataset, string baseModel, MethodConfig config, double rate, int epochs,
        int batchSize, int patience, int seed, IProgress<PrefixTuningProgress>? progress)
    {
        o.BaseModelPath = baseModel;
        o.Method = config.Method;
        o.PrefixLength = Math.Max(1, config.PrefixLength);
        o.PrefixProjection = config.Projection;
        o.PrefixDepth = config.PrefixDepth;
        o.GroupByLength = config.GroupByLength;
        o.Precision = config.Precision;
        if (o is PrefixTuningTextClassificationOptions text)
        {
            text.Pooling = config.Pooling;
            if (dataset is Banking77Dataset banking)
            {
                text.PromptTemplate = Banking77Dataset.PromptTemplate(config.Method);
                text.Verbalizer = banking.LabelWords;
            }
        }
        o.LearningRate = rate;
        o.MaxEpochs = epochs;
        o.BatchSize = batchSize;
        o.EarlyStoppingPatience = patience;
        o.Seed = seed;
        o.Progress = progress;
    }

    /// <summary>The 1-based epoch of the best metric; the first of equals, as the trainer keeps the first.</summary>
    internal static int BestEpoch(IReadOnlyList<double> curve)
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
    /// <summary>The template and label words (in class order) a masked-LM method of <paramref name="config"/> trained with, or null.</summary>
    public static (string Template, string[][] LabelWords)? PromptOf(QualityDataset dataset, MethodConfig config, PrefixTuningTransformer model) =>
        dataset is Banking77Dataset banking && config.Method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1
            ? (Banking77Dataset.PromptTemplate(config.Method), model.ClassNames!.Select(c => banking.LabelWords[c]).ToArray())
            : null;

    /// <summary>Trainable scalars (adapter or MLP, head, encoder for full fine-tuning) and all scalars of the model.</summary>
    public static (long Trainable, long Total) Of(string baseModelFolder, TaskKind kind, int classCount, MethodConfig config,
        PoolingMode pooling = PoolingMode.Cls, (string Template, string[][] LabelWords)? prompt = null)
    {
        var baseModel = BaseModel.Load(baseModelFolder, TorchSharp.torch.CPU, log: null);
        bool maskedLm = config.Method is TuningMethod.HandcraftedPrompt or TuningMethod.PTuningV1;
        var spec = new TaskSpec(kind, classCount, config.Method, Math.Max(1, config.PrefixLength), config.PrefixDepth, pooling)
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
