using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Microsoft.ML.PTuning.Benchmarks;

/// <summary>
/// The converged quality profile (issue 15): every method trained on the whole training split to early stopping on
/// validation, with a learning-rate search per method that widens while its winner sits at an edge of the grid, P-Tuning
/// v2 over prefix lengths, with and without the projection, Cls against Mean pooling, the headline rows over three seeds,
/// and the library's defaults as a user gets them. Every run is appended to <c>trials.jsonl</c> when it ends and skipped
/// when the suite starts again, and each run checkpoints its training, so the suite resumes after a stop at the step it
/// reached; the reports are rewritten from all the runs after each one.
/// </summary>
internal sealed class ConvergedQualitySuite
{
    private readonly BenchmarkArguments _args;
    private readonly string _baseModel;
    private readonly ConvergedProfile _profile;
    private readonly TrialStore _store;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<string> _descriptions = new();
    private int _ran;

    public ConvergedQualitySuite(BenchmarkArguments args, string baseModel)
    {
        _args = args;
        _baseModel = baseModel;
        _profile = args.Quick ? ConvergedProfile.Quick : ConvergedProfile.Full;
        _store = new TrialStore(Path.Combine(args.OutputFolder, "trials.jsonl"));
    }

    public void Run()
    {
        Log.Line($"Quality suite, {_profile.Describe()}");
        Log.Line($"{_store.Records.Count} runs already in {_store.Path}; they are skipped.");
        if (_args.Quick)
            Log.Line("QUICK PROFILE: subsampled data, 2 epochs, one learning rate per method. A smoke run, not the published numbers.");
        var mlContext = new MLContext(seed: Datasets.Seed);
        var banking = Banking77Dataset.Load(mlContext, _args.DataFolder, _profile.Data);
        var wnut = Wnut17Dataset.Load(mlContext, _args.DataFolder, _profile.Data);
        _descriptions.Add(banking.Description);
        _descriptions.Add(wnut.Description);
        Log.Line(banking.Description);
        Log.Line(wnut.Description);
        if (_args.ReportOnly)
        {
            WriteReports();
            Log.Line($"Reports rewritten from {_store.Records.Count} runs in {_store.Path}; nothing trained (--report).");
            return;
        }
        var plans = new[] { new DatasetPlan(this, banking), new DatasetPlan(this, wnut) };

        // What the goals need, most telling first, so a run cut short (the profile spans sessions) has the headline.
        // Prefix tuning first: its grid on both sets and its widening, WNUT-17 first, then WNUT-17's longer prefixes
        // (token classification's defaults hang on its prefix length: issue 15's held-out NER runs gained 7 points from
        // P = 16 at 10 epochs to P = 64 at 15, patience 5). Then the library's defaults, the probe (cheap: it reads cached
        // features) and full fine-tuning's grid on both sets (WNUT-17 first): every goal needs them. Then the probe at the
        // other pooling (cheap, and the pooling's effect on a frozen encoder is what it shows), then full fine-tuning's
        // widening (an hour a rate), then the masked-LM methods. The rows past the budget run with --extended.
        foreach (var plan in plans)
            plan.Grid(plan.BasePrefix);
        // WNUT-17 first wherever both sets run a search: its goal compares against full fine-tuning, and its validation
        // curve is the noisier one, so its runs are the ones a session cut short most needs.
        var tokenFirst = plans.OrderBy(p => p.Dataset.Kind == TaskKind.TokenClassification ? 0 : 1).ToArray();
        foreach (var plan in tokenFirst)
            plan.Widen(plan.BasePrefix);
        foreach (var plan in plans.Where(p => p.Dataset.Kind == TaskKind.TokenClassification))
            plan.PrefixLengths(_profile.PrefixLengths);
        foreach (var plan in plans)
            plan.Defaults();
        var probe = new MethodConfig(TuningMethod.LinearProbe, 0, false);
        var fullFineTuning = new MethodConfig(TuningMethod.FullFineTuning, 0, false);
        foreach (var plan in tokenFirst)
            plan.Search(probe);
        foreach (var plan in tokenFirst)
            plan.Grid(fullFineTuning);
        // The base declares its pooling (the MiniLM import: Mean); the probe searches the other one too (the budget's
        // pooling row; the best prefix at the other pooling runs with --extended).
        var text = plans.Where(p => p.Dataset.Kind == TaskKind.SequenceClassification).ToArray();
        foreach (var plan in text)
            plan.Search(probe with { Pooling = OtherPooling(plan.BestPrefixRun()) });
        foreach (var plan in tokenFirst)
            plan.Widen(fullFineTuning);
        // Issue 12's masked-LM methods, on Banking77, where the base has a masked-LM head (the MiniLM ONNX import has none).
        if (Runtime.BaseModel.Load(_baseModel, TorchSharp.torch.CPU, log: null).MaskedLanguageModelHead is null)
        {
            Log.Line($"  No masked-LM head in '{_baseModel}': no HandcraftedPrompt or PTuningV1 rows.");
        }
        else
        {
            var banking77 = plans.Single(p => p.Dataset is Banking77Dataset);
            banking77.Search(new MethodConfig(TuningMethod.HandcraftedPrompt, 0, false));
            banking77.Search(new MethodConfig(TuningMethod.PTuningV1, _profile.PromptLength, false));
        }

        if (!_args.Extended)
        {
            Log.Line($"  Past the budget, not run (--extended runs them): Banking77's prefix lengths {string.Join("/", _profile.PrefixLengths.Where(p => p != _profile.BasePrefixLength))}, " +
                $"the headline rows at seeds {string.Join("/", _profile.Seeds.Skip(1))}, the projection, prompt tuning, prefix lengths {string.Join("/", _profile.ExtendedPrefixLengths)}, " +
                "the best prefix at the other pooling.");
        }
        else
        {
            // Banking77's longer prefixes: P = 16 met its goal there, so they only test the text default's prefix length.
            foreach (var plan in text)
                plan.PrefixLengths(_profile.PrefixLengths);
            foreach (var plan in plans)
                plan.Seeds();
            foreach (var plan in plans)
            {
                var best = plan.BestPrefixRun();
                plan.Trial(plan.ConfigOf(best) with { Projection = true }, best.LearningRate);
                plan.Search(new MethodConfig(TuningMethod.PromptTuning, _profile.PromptLength, false));
                plan.PrefixLengths(_profile.ExtendedPrefixLengths);
                if (plan.Dataset.Kind == TaskKind.SequenceClassification)
                    plan.Trial(plan.ConfigOf(best) with { Pooling = OtherPooling(best) }, best.LearningRate);
            }
        }

        WriteReports();
        Log.Line($"Quality suite ({_profile.Name} profile): {_ran} runs this time, {_store.Records.Count} in all, {_clock.Elapsed:hh\\:mm\\:ss}; reports in {_args.OutputFolder}.");
    }

    /// <summary>The pooling a run did not use: Cls for a Mean run, else Mean.</summary>
    private static PoolingMode OtherPooling(TrialRecord run) =>
        Enum.Parse<PoolingMode>(run.Pooling) == PoolingMode.Mean ? PoolingMode.Cls : PoolingMode.Mean;

    private void WriteReports()
    {
        var records = _store.Records;
        Report.WriteJson(Path.Combine(_args.OutputFolder, "quality.json"), records);
        var plots = ConvergedQualityReport.Plots(_args.OutputFolder, records);
        ConvergedQualityReport.WriteMarkdown(Path.Combine(_args.OutputFolder, "quality.md"), _profile, _args, _descriptions, records, plots, _baseModel);
    }

    /// <summary>The runs of one dataset: each run once (from the store when it is there), the searches and the selections.</summary>
    private sealed class DatasetPlan
    {
        private readonly ConvergedQualitySuite _suite;

        public DatasetPlan(ConvergedQualitySuite suite, QualityDataset dataset)
        {
            _suite = suite;
            Dataset = dataset;
        }

        public QualityDataset Dataset { get; }

        private ConvergedProfile Profile => _suite._profile;

        public MethodConfig BasePrefix => new(TuningMethod.PrefixTuning, Profile.BasePrefixLength, false);

        private int Epochs => Dataset.Kind == TaskKind.SequenceClassification ? Profile.Data.BankingEpochs : Profile.Data.WnutEpochs;

        /// <summary><see cref="Grid"/>, then <see cref="Widen"/>.</summary>
        public void Search(MethodConfig config)
        {
            Grid(config);
            Widen(config);
        }

        /// <summary>Runs <paramref name="config"/> at every rate of the profile's grid for its method.</summary>
        public void Grid(MethodConfig config)
        {
            foreach (double rate in Profile.Data.LearningRates[config.Method])
                Trial(config, rate);
        }

        /// <summary>
        /// After <see cref="Grid"/>: while the best rate is the lowest or highest tried (and the extensions allow), one more
        /// rate beyond it, a grid step away.
        /// </summary>
        public void Widen(MethodConfig config)
        {
            var rates = Profile.Data.LearningRates[config.Method].OrderBy(r => r).ToList();
            for (int extension = 0; extension < Profile.MaxExtensions && rates.Count > 1; extension++)
            {
                double best = Best(config).LearningRate;
                double next;
                if (best == rates[0])
                    next = rates[0] * rates[0] / rates[1];
                else if (best == rates[^1])
                    next = rates[^1] * rates[^1] / rates[^2];
                else
                    break;
                next = double.Parse(next.ToString("G2", CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);
                if (next > 1 || rates.Contains(next))
                    break;
                Log.Line($"  {Dataset.Name} {config.Label}: the best rate {Report.F(best, "G3")} is at the grid's edge; adding {Report.F(next, "G3")}.");
                rates.Add(next);
                rates.Sort();
                Trial(config, next);
            }
        }

        /// <summary>The best run of <paramref name="config"/> at the first seed, by validation metric.</summary>
        public TrialRecord Best(MethodConfig config) =>
            Runs(config, Profile.Seeds[0]).MaxBy(r => r.ValidationMetric)
            ?? throw new InvalidOperationException($"{Dataset.Name} {config.Label} has no runs.");

        /// <summary>
        /// The best prefix-tuning run at the first seed over the prefix lengths, with the default pooling and no projection
        /// (the later variant rows cannot change it, so a resumed suite picks the same one).
        /// </summary>
        public TrialRecord BestPrefixRun() =>
            _suite._store.Records.Where(r => r.Dataset == Dataset.Name && r.Method == nameof(TuningMethod.PrefixTuning) && !r.Projection
                && r.PoolingAsked == nameof(PoolingMode.Auto) && r.Seed == Profile.Seeds[0]
                && !r.Label.StartsWith(DefaultsLabel, StringComparison.Ordinal)).MaxBy(r => r.ValidationMetric)
            ?? throw new InvalidOperationException($"{Dataset.Name} has no prefix-tuning runs.");

        public MethodConfig ConfigOf(TrialRecord run) =>
            new(Enum.Parse<TuningMethod>(run.Method), run.PrefixLength, run.Projection, Pooling: Enum.Parse<PoolingMode>(run.PoolingAsked));

        /// <summary>
        /// Prefix tuning at <paramref name="lengths"/> (the base length skipped), each at the base length's best rate,
        /// shortest first among those above the base; the first that does not beat the best validation metric so far ends
        /// the climb (a longer prefix then costs more to train for what the shorter already reached). Lengths below the
        /// base all run.
        /// </summary>
        public void PrefixLengths(IEnumerable<int> lengths)
        {
            double rate = Best(BasePrefix).LearningRate;
            foreach (int length in lengths.Where(p => p < Profile.BasePrefixLength).OrderByDescending(p => p))
                Trial(BasePrefix with { PrefixLength = length }, rate);
            double best = Best(BasePrefix).ValidationMetric;
            foreach (int length in lengths.Where(p => p > Profile.BasePrefixLength).Order())
            {
                double metric = Trial(BasePrefix with { PrefixLength = length }, rate).ValidationMetric;
                if (metric <= best)
                {
                    Log.Line($"  {Dataset.Name} PT2 P={length}: validation {Report.F(metric, "F4")} does not beat {Report.F(best, "F4")}; no longer prefixes.");
                    break;
                }
                best = metric;
            }
        }

        /// <summary>The headline rows (best PT2, full fine-tuning, linear probe) again at the other seeds.</summary>
        public void Seeds()
        {
            var headline = new List<(MethodConfig Config, double Rate)>
            {
                (ConfigOf(BestPrefixRun()), BestPrefixRun().LearningRate),
            };
            foreach (var method in new[] { TuningMethod.FullFineTuning, TuningMethod.LinearProbe })
            {
                var config = new MethodConfig(method, 0, false);
                headline.Add((config, Best(config).LearningRate));
            }
            foreach (int seed in Profile.Seeds.Skip(1))
            {
                foreach (var (config, rate) in headline)
                    Trial(config, rate, seed);
            }
        }

        /// <summary>
        /// The library's defaults as a user who sets only the base model and the columns gets them: no validation set (so
        /// no early stopping), the default method, prefix length, rate, epochs and pooling.
        /// </summary>
        public void Defaults()
        {
            PrefixTuningOptions defaults = Dataset.Kind == TaskKind.SequenceClassification
                ? new PrefixTuningTextClassificationOptions()
                : new PrefixTuningTokenClassificationOptions();
            string pooling = defaults is PrefixTuningTextClassificationOptions text ? $" pooling {text.Pooling}" : "";
            string label = $"{DefaultsLabel} ({defaults.Method} P={defaults.PrefixLength} lr {Report.F(defaults.EffectiveLearningRate, "G3")} " +
                $"{defaults.MaxEpochs} epochs batch {defaults.BatchSize}{pooling})";
            Run(label, new MethodConfig(defaults.Method, defaults.PrefixLength, defaults.PrefixProjection), defaults.EffectiveLearningRate, Profile.Seeds[0],
                o =>
                {
                    o.BaseModelPath = _suite._baseModel;
                    o.ValidationSet = null;
                    o.Seed = Profile.Seeds[0];
                });
        }

        public const string DefaultsLabel = "Defaults";

        private IEnumerable<TrialRecord> Runs(MethodConfig config, int seed) =>
            _suite._store.Records.Where(r => r.Dataset == Dataset.Name && r.Label == config.Label && r.Seed == seed);

        public TrialRecord Trial(MethodConfig config, double rate, int? seed = null)
        {
            int s = seed ?? Profile.Seeds[0];
            return Run(config.Label, config, rate, s, o =>
            {
                QualitySuite.Configure(o, Dataset, _suite._baseModel, config, rate, Epochs, Profile.Data.BatchSize, Profile.Data.PatienceOf(Dataset.Kind), s, progress: null);
            });
        }

        // One run, or its record when the store has it. The options are configured first, then hashed into the run's id,
        // so a run is redone exactly when something that shapes it changes (a library default included).
        private TrialRecord Run(string label, MethodConfig config, double rate, int seed, Action<PrefixTuningOptions> configure)
        {
            string id = Id(label, config, rate, seed, configure);
            if (_suite._store.Find(id) is TrialRecord done)
                return done;

            string runLabel = $"{Dataset.Name} {label} lr {Report.F(rate, "G3")} seed {seed}";
            Log.Line($"  {runLabel}: training (run {_suite._store.Records.Count + 1}, {_suite._clock.Elapsed:hh\\:mm\\:ss} into this session)");
            string checkpoints = Path.Combine(_suite._args.OutputFolder, "checkpoints", id[..16]);
            string journal = checkpoints + ".epochs.json";
            var recorder = new EpochRecorder(runLabel, journal);
            var process = Process.GetCurrentProcess();
            TimeSpan cpuBefore = process.TotalProcessorTime;
            var wall = Stopwatch.StartNew();
            PrefixTuningTransformer model;
            double peak, start;
            double? projectionRate = null;
            int maxEpochs = 0, patience = 0;
            PoolingMode pooling;
            using (var memory = MemorySampler.Start())
            {
                model = Dataset.Fit(o =>
                {
                    configure(o);
                    o.Progress = recorder;
                    o.CheckpointFolder = checkpoints;
                    if (o.PrefixProjection)
                        projectionRate = o.EffectiveProjectionLearningRate;
                    maxEpochs = o.MaxEpochs;
                    patience = o.ValidationSet == null ? 0 : o.EarlyStoppingPatience;
                });
                peak = memory.PeakMb;
                start = memory.StartMb;
            }
            double seconds = recorder.PriorWallSeconds + wall.Elapsed.TotalSeconds;
            process.Refresh();
            double cpu = recorder.PriorCpuSeconds + (process.TotalProcessorTime - cpuBefore).TotalSeconds;
            try
            {
                pooling = model.Trained.Spec.Pooling;
                var curve = recorder.ValidationMetrics.ToArray();
                int bestEpoch = curve.Length > 0 ? QualitySuite.BestEpoch(curve) : recorder.EpochExamplesPerSecond.Count;
                var (metric, macroF1) = Dataset.Evaluate(model);
                long zipBytes = Dataset.ZipBytes(model);
                var (trainable, total) = ParameterCounts.Of(_suite._baseModel, Dataset.Kind, Dataset.ClassCount, config, pooling,
                    ParameterCounts.PromptOf(Dataset, config, model));
                var record = new TrialRecord(id, Dataset.Name, label, config.Method.ToString(), config.ReportedLength, config.Projection,
                    Dataset.Kind == TaskKind.SequenceClassification ? pooling.ToString() : "", config.Pooling.ToString(), rate, projectionRate, seed, maxEpochs, patience,
                    Dataset.MetricName, curve, curve.Length > 0 ? curve[bestEpoch - 1] : double.NaN, bestEpoch, recorder.EpochExamplesPerSecond.Count,
                    metric, macroF1, seconds, cpu, peak, start, zipBytes, trainable, total, Report.LoadAverage(), DateTime.UtcNow, Report.Cpu());
                _suite._store.Add(record);
                _suite._ran++;
                Log.Line($"  {runLabel}: validation {Dataset.MetricName} {record.ValidationMetric:F4} at epoch {bestEpoch} of {record.EpochsRun}; " +
                    $"test {metric:F4}; {seconds:F0} s wall, {cpu:F0} s CPU, peak RSS {peak:F0} MB");
                if (Directory.Exists(checkpoints))
                    Directory.Delete(checkpoints, recursive: true);
                File.Delete(journal);
                _suite.WriteReports();
                return record;
            }
            finally
            {
                model.Dispose();
            }
        }

        private string Id(string label, MethodConfig config, double rate, int seed, Action<PrefixTuningOptions> configure)
        {
            PrefixTuningOptions probe = Dataset.Kind == TaskKind.SequenceClassification
                ? new PrefixTuningTextClassificationOptions()
                : new PrefixTuningTokenClassificationOptions();
            configure(probe);
            string pooling = probe is PrefixTuningTextClassificationOptions text ? text.Pooling.ToString() : "";
            string shape = string.Create(CultureInfo.InvariantCulture,
                $"{Dataset.Description}|{label}|{config}|{probe.Method}|{probe.PrefixLength}|{probe.PrefixProjection}|{probe.EffectiveLearningRate:R}|" +
                $"{probe.EffectiveProjectionLearningRate:R}|{probe.MaxEpochs}|{probe.EarlyStoppingPatience}|{probe.BatchSize}|{probe.WeightDecay:R}|" +
                $"{probe.WarmupRatio:R}|{probe.HiddenDropout:R}|{probe.Precision}|{probe.GroupByLength}|{pooling}|{seed}|{_suite._baseModel}");
            return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(shape)));
        }
    }
}
