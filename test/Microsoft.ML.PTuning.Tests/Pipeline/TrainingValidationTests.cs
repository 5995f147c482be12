using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tests.Modeling;
using Microsoft.ML.PTuning.Training;
using TorchSharp;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>Options and data that would train garbage silently are refused before training, naming the option or row.</summary>
[Collection(PipelineCollection.Name)]
public class TrainingValidationTests
{
    private sealed class Recorder : IProgress<PrefixTuningProgress>
    {
        public List<double?> Metrics { get; } = [];

        public void Report(PrefixTuningProgress value)
        {
            if (value.EndOfEpoch)
                Metrics.Add(value.ValidationMetric);
        }
    }

    private sealed class NumberRow
    {
        public string Sentence1 { get; set; } = "";
        public float Label { get; set; }
    }

    private static readonly MLContext Ml = new(seed: 1);

    private static IDataView Train() => TinyData.LoadSingle(Ml, TinyData.Text(perClass: 4, seed: 1));

    private static Microsoft.ML.Transforms.ValueToKeyMappingTransformer KeyOf(IDataView data) =>
        Ml.Transforms.Conversion.MapValueToKey("Label").Fit(data);

    private static PrefixTuningTransformer Fit(IDataView train, Action<PrefixTuningTextClassificationOptions> change, List<string>? log = null)
    {
        var options = TinyData.TextOptions(TinyBaseModel.Get(), epochs: 2);
        change(options);
        var mlContext = new MLContext(seed: 1);
        if (log != null)
            mlContext.Log += (_, e) => log.Add(e.Message);
        return mlContext.Transforms.Text.PrefixTuning(options).Fit(train);
    }

    [Theory]
    [InlineData(nameof(PrefixTuningOptions.WeightDecay), double.PositiveInfinity)]
    [InlineData(nameof(PrefixTuningOptions.WeightDecay), double.NaN)]
    [InlineData(nameof(PrefixTuningOptions.WeightDecay), -0.01)]
    [InlineData(nameof(PrefixTuningOptions.WeightDecay), 1e30)]
    [InlineData(nameof(PrefixTuningOptions.WeightDecay), 40.0)] // × the rate 3e-2 = 1.2: the decay would flip every weight's sign
    [InlineData(nameof(PrefixTuningOptions.LearningRate), 1e6)]
    [InlineData(nameof(PrefixTuningOptions.LearningRate), 1.5)]
    [InlineData(nameof(PrefixTuningOptions.LearningRate), double.PositiveInfinity)]
    [InlineData(nameof(PrefixTuningOptions.LearningRate), 0.0)]
    [InlineData(nameof(PrefixTuningOptions.PrefixProjectionLearningRate), 2.0)]
    [InlineData(nameof(PrefixTuningOptions.PrefixProjectionLearningRate), double.NaN)]
    public void AnOptionThatWouldTrainGarbageIsRefusedByName(string option, double value)
    {
        var train = KeyOf(Train()).Transform(Train());
        var error = Assert.ThrowsAny<ArgumentException>(() => Fit(train, o =>
        {
            o.PrefixProjection = option == nameof(o.PrefixProjectionLearningRate);
            typeof(PrefixTuningOptions).GetProperty(option)!.SetValue(o, option == nameof(o.WeightDecay) ? value : (double?)value);
        }));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(option, error.Message);
    }

    [Fact]
    public void TheLargestUsefulWeightDecayAndRateStillTrain()
    {
        var train = KeyOf(Train()).Transform(Train());
        using var model = Fit(train, o =>
        {
            o.WeightDecay = 0.1;
            o.LearningRate = 1;
            o.MaxEpochs = 1;
        });
        Assert.NotNull(model);
    }

    [Fact]
    public void ATrainingSetWithOneClassIsRefusedNamingTheClass()
    {
        var rows = TinyData.Text(perClass: 4, seed: 1).Where(r => r.Label == "money").ToArray();
        var data = TinyData.LoadSingle(Ml, rows);
        // Keys fitted on all three classes, so the label has 3 key values but only one of them occurs.
        var keys = KeyOf(Train());
        var error = Assert.Throws<InvalidOperationException>(() => Fit(keys.Transform(data), _ => { }));
        Assert.Contains("only one class", error.Message);
        Assert.Contains("'money'", error.Message);
        Assert.Contains("'Label'", error.Message);

        var tokenRows = TinyData.Tokens(6, seed: 1).Select(r => new TokenRow { Sentence = r.Sentence, Tags = r.Tags.Select(_ => "O").ToArray() });
        var tokenPipeline = TinyData.TokenPipeline(Ml, TinyData.TokenOptions(TinyBaseModel.Get(), epochs: 1));
        error = Assert.Throws<InvalidOperationException>(() => tokenPipeline.Fit(TinyData.Load(Ml, tokenRows)));
        Assert.Contains("only one class, 'O'", error.Message);
        Assert.Contains("words", error.Message);
    }

    [Fact]
    public void AnEmptyValidationSetIsRefused()
    {
        var keys = KeyOf(Train());
        var train = keys.Transform(Train());
        var empty = keys.Transform(TinyData.LoadSingle(Ml, Array.Empty<TextRow>()));
        var error = Assert.ThrowsAny<ArgumentException>(() => Fit(train, o => o.ValidationSet = empty));
        Assert.Equal(nameof(PrefixTuningOptions.ValidationSet), error.ParamName);
        Assert.Contains("no usable rows", error.Message);

        // Rows whose labels the training keys do not know read as missing: no usable row either.
        var unknown = keys.Transform(TinyData.LoadSingle(Ml, [new TextRow { Sentence1 = "my card", Label = "stocks" }]));
        error = Assert.ThrowsAny<ArgumentException>(() => Fit(train, o => o.ValidationSet = unknown));
        Assert.Equal(nameof(PrefixTuningOptions.ValidationSet), error.ParamName);
    }

    [Fact]
    public void AValidationSetKeyedByItsOwnMappingIsScoredByValueNotByKeyNumber()
    {
        var trainRows = TinyData.Text(perClass: 4, seed: 1);
        var train = TinyData.LoadSingle(Ml, trainRows);
        // Validation rows listed "transfer" first: their own MapValueToKey numbers the classes in another order.
        var validationRows = TinyData.Text(perClass: 4, seed: 21).OrderBy(r => r.Label == "transfer" ? 0 : r.Label == "card" ? 2 : 1).ToArray();
        var validation = TinyData.LoadSingle(Ml, validationRows);
        var trainKeys = KeyOf(train);
        var ownKeys = KeyOf(validation);
        Assert.NotEqual(KeyNames(trainKeys.Transform(train)), KeyNames(ownKeys.Transform(validation)));

        var byTrainingKeys = new Recorder();
        var byOwnKeys = new Recorder();
        var log = new List<string>();
        Fit(trainKeys.Transform(train), o =>
        {
            o.ValidationSet = trainKeys.Transform(validation);
            o.Progress = byTrainingKeys;
        }).Dispose();
        Fit(trainKeys.Transform(train), o =>
        {
            o.ValidationSet = ownKeys.Transform(validation);
            o.Progress = byOwnKeys;
        }, log).Dispose();

        Assert.Equal(byTrainingKeys.Metrics, byOwnKeys.Metrics);
        Assert.Contains(log, m => m.Contains("matched to the training classes by value"));
    }

    [Fact]
    public void AValidationSetWithAClassTheTrainingDataLacksIsRefusedNamingIt()
    {
        var train = Train();
        var rows = TinyData.Text(perClass: 2, seed: 3).Append(new TextRow { Sentence1 = "buy stocks", Label = "stocks" }).ToArray();
        var validation = TinyData.LoadSingle(Ml, rows);
        var error = Assert.Throws<InvalidOperationException>(() => Fit(KeyOf(train).Transform(train), o => o.ValidationSet = KeyOf(validation).Transform(validation)));
        Assert.Contains("'stocks'", error.Message);
        Assert.Contains(nameof(PrefixTuningOptions.ValidationSet), error.Message);
    }

    [Fact]
    public void KeysWithoutTextValuesFallBackToTheirCount()
    {
        NumberRow[] Rows(int classes) => Enumerable.Range(0, 12).Select(i => new NumberRow { Sentence1 = TinyData.Keywords[i % classes][0], Label = i % classes }).ToArray();
        IDataView Keyed(NumberRow[] rows)
        {
            var data = Ml.Data.LoadFromEnumerable(rows);
            return Ml.Transforms.Conversion.MapValueToKey("Label").Fit(data).Transform(data);
        }
        var error = Assert.Throws<InvalidOperationException>(() => Fit(Keyed(Rows(3)), o => o.ValidationSet = Keyed(Rows(2))));
        Assert.Contains("2 key values", error.Message);
        Assert.Contains("3", error.Message);
        Assert.Contains("by number", error.Message);
    }

    [Fact]
    public void ABaseWithNonFiniteWeightsIsRefusedBeforeTrainingNamingTheTensor()
    {
        // A base whose word embeddings hold NaN would make the first loss NaN before any weight moved; the load says why.
        string folder = TinyBaseModel.Create("roberta", seed: 3);
        var config = EncoderConfig.Load(Path.Combine(folder, "config.json"));
        using (var encoder = TinyEncoders.Random(config, seed: 3))
        {
            var tensors = TinyEncoders.StateWithPrefix(encoder, "");
            tensors["embeddings.word_embeddings.weight"].fill_(double.NaN);
            TinyEncoders.WriteCheckpoint(folder, config, tensors);
            foreach (var tensor in tensors.Values)
                tensor.Dispose();
        }
        var train = KeyOf(Train()).Transform(Train());
        var options = TinyData.TextOptions(folder, epochs: 1);
        var error = Assert.Throws<InvalidDataException>(() => new MLContext(seed: 1).Transforms.Text.PrefixTuning(options).Fit(train));
        Assert.Contains("embeddings.word_embeddings.weight", error.Message);
        Assert.Contains("NaN or infinite", error.Message);
    }

    [Theory]
    [InlineData(1e37, 0.0, 1.0, "lower LearningRate")]           // a rate the options refuse; the loop still says why
    [InlineData(0.5, 1e30, 1.0, "lower WeightDecay")]
    public void ALossThatDivergesLaterNamesTheSettingThatCausedIt(double rate, double weightDecay, double clipNorm, string expected)
    {
        var baseModel = BaseModel.Load(TinyBaseModel.Get(), torch.CPU, log: null);
        var rows = TinyData.Text(perClass: 8, seed: 1).Select(r => new LabeledText(new SentencePair(r.Sentence1, null), Array.IndexOf(TinyData.Classes, r.Label))).ToList();
        var settings = new TrainerSettings(rate, rate, weightDecay, WarmupRatio: 0, clipNorm, BatchSize: 8, MaxEpochs: 20, EarlyStoppingPatience: 0, Seed: 7);
        using var session = TrainingSession.Start(baseModel, new TaskSpec(TaskKind.SequenceClassification, 3, TuningMethod.LinearProbe, 0),
            new AdapterTraining(false, 512, 0.1), settings, maxTokens: 32, new TextDataset(rows), validation: null, ValidationMetric.Auto,
            TinyData.Classes, progress: null, log: null, CancellationToken.None);
        var error = Assert.Throws<InvalidOperationException>(() => session.Trainer!.Run());
        Assert.Contains("diverged", error.Message);
        Assert.Contains(expected, error.Message);
        Assert.DoesNotContain("No weight had been updated", error.Message);
    }

    private static string[] KeyNames(IDataView data)
    {
        VBuffer<ReadOnlyMemory<char>> values = default;
        data.Schema["Label"].GetKeyValues(ref values);
        return values.DenseValues().Select(v => v.ToString()).ToArray();
    }
}
