using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tests.Pipeline;
using TorchSharp;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Prompting;

// Not parallel, on one torch thread (as the sweeps): these fit many tiny models, which a busy machine slows most.
[Collection(Sweeps.SweepCollection.Name)]
public class PromptMethodTests(ITestOutputHelper output)
{
    private static readonly Dictionary<string, string[]> Words = new()
    {
        ["card"] = ["card"],
        ["money"] = ["money"],
        ["transfer"] = ["transfer"],
    };

    internal static PrefixTuningTextClassificationOptions Options(string baseModelPath, TuningMethod method, string template = "{Sentence1} It was {mask}.")
    {
        var options = TinyData.TextOptions(baseModelPath, method);
        options.PromptTemplate = template;
        options.Verbalizer = Words;
        return options;
    }

    private static double Accuracy(MLContext mlContext, ITransformer model, IDataView data) =>
        mlContext.MulticlassClassification.Evaluate(model.Transform(data)).MicroAccuracy;

    [Theory]
    [InlineData("roberta")]
    [InlineData("bert")]
    public void TheHandcraftedPromptTrainsNothingAndScoresTheSoftmaxOfTheLabelWordsLogitsAtTheMask(string modelType)
    {
        string folder = TinyMaskedLanguageModel.Get(modelType);
        var mlContext = new MLContext(seed: 1);
        TextRow[] rows = TinyData.Text(perClass: 3, seed: 2);
        IDataView data = TinyData.LoadSingle(mlContext, rows);
        var options = Options(folder, TuningMethod.HandcraftedPrompt);
        ITransformer model = TinyData.TextPipeline(mlContext, options).Fit(data);
        float[][] scores = TinyData.Scores(model.Transform(data));

        // By hand: the rendered text, the masked-LM's whole-vocabulary logits at the mask, each word the mean of its
        // pieces, each class the mean of its words, softmax over the classes.
        var baseModel = BaseModel.Load(folder, torch.CPU, log: null);
        var tokenizer = baseModel.Tokenizer;
        var classes = KeyNames(model.Transform(data));
        for (int r = 0; r < rows.Length; r++)
        {
            string filled = $"{rows[r].Sentence1} It was {tokenizer.MaskToken}.";
            int[] ids = tokenizer.Encode(filled, null, 64).InputIds;
            using var scope = torch.NewDisposeScope();
            using var noGrad = torch.no_grad();
            Tensor input = torch.tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0);
            Tensor hidden = baseModel.Encoder.forward(input, torch.ones_like(input), null, null, null)[0, Array.IndexOf(ids, tokenizer.MaskTokenId)];
            float[] vocabulary = baseModel.MaskedLanguageModelHead!.forward(hidden.unsqueeze(0))[0].data<float>().ToArray();
            float[] logits = classes.Select(c => (float)Words[c].Average(w => tokenizer.EncodeWord(w).Average(p => vocabulary[p]))).ToArray();
            float[] expected = InferenceEngine.Softmax(logits);
            Assert.True(TinyData.MaxDifference([expected], [scores[r]]) < 1e-5, $"row {r}: {string.Join(", ", expected)} vs {string.Join(", ", scores[r])}");
        }
        if (modelType == "roberta")
            Assert.Contains(Words.Values.SelectMany(w => w), w => tokenizer.EncodeWord(w).Length > 1);   // the multi-piece rule was exercised
    }

    /// <summary>
    /// The toy task: sentences of the tiny data labelled by what this frozen masked-LM predicts at the mask of a P-Tuning v1
    /// template whose six prompt vectors are a hidden seeded table (class = the label word whose log-probability is
    /// highest above its mean over the rows). So the labels are learnable by P-Tuning v1 over this base; the handcrafted
    /// template, the same text without the prompt vectors, agrees with them only partly.
    /// </summary>
    internal static TextRow[] ToyTask(string folder, string template)
    {
        var baseModel = BaseModel.Load(folder, torch.CPU, log: null);
        var spec = new PTuning.Modeling.TaskSpec(TaskKind.SequenceClassification, 3, TuningMethod.PTuningV1, 0)
        {
            PromptTemplate = template,
            LabelWords = TinyData.Classes.Select(c => Words[c]).ToArray(),
        };
        torch.manual_seed(42);
        var teacher = TaskModels.CreateForLoading(baseModel, spec);
        using (torch.no_grad())
            teacher.Prompt!.Table.copy_(torch.randn(teacher.Prompt.Table.shape) * 3);
        using var engine = new InferenceEngine(baseModel, teacher, 32, 3, TaskModels.TemplateOf(baseModel, spec));
        var rows = TinyData.Text(perClass: 32, seed: 1).Concat(TinyData.Text(perClass: 16, seed: 9)).ToArray();
        float[][] probabilities = engine.Classify(rows.Select(r => new SentencePair(r.Sentence1, null)).ToList());
        double[] mean = Enumerable.Range(0, 3).Select(c => probabilities.Average(p => Math.Log(p[c]))).ToArray();
        return rows.Select((r, i) => new TextRow
        {
            Sentence1 = r.Sentence1,
            Label = TinyData.Classes[Enumerable.Range(0, 3).MaxBy(c => Math.Log(probabilities[i][c]) - mean[c])],
        }).ToArray();
    }

    [Fact]
    public void PTuningV1LearnsAToyTaskTheUntrainedHandcraftedPromptDoesNot()
    {
        string folder = TinyMaskedLanguageModel.Get("roberta");
        TextRow[] rows = ToyTask(folder, "{prompt:4} {Sentence1} {prompt:2} It was {mask}.");
        var mlContext = new MLContext(seed: 1);
        IDataView train = TinyData.LoadSingle(mlContext, rows.Take(96));
        IDataView test = TinyData.LoadSingle(mlContext, rows.Skip(96));

        double zeroShot = Accuracy(mlContext, TinyData.TextPipeline(mlContext, Options(folder, TuningMethod.HandcraftedPrompt)).Fit(train), test);
        // The swept form of the same template: {prompt} takes PrefixLength (4) vectors.
        var v1 = Options(folder, TuningMethod.PTuningV1, "{prompt} {Sentence1} {prompt:2} It was {mask}.");
        v1.LearningRate = 1e-2;
        double tuned = Accuracy(mlContext, TinyData.TextPipeline(mlContext, v1).Fit(train), test);
        output.WriteLine($"toy task, 48 test rows: HandcraftedPrompt zero-shot {zeroShot:P1}, PTuningV1 {tuned:P1}");
        Assert.True(tuned >= zeroShot + 0.1, $"PTuningV1 {tuned:P1} vs zero-shot {zeroShot:P1}");
    }

    [Theory]
    [InlineData(TuningMethod.HandcraftedPrompt, "roberta", false, true)]
    [InlineData(TuningMethod.PTuningV1, "roberta", false, true)]
    [InlineData(TuningMethod.PTuningV1, "roberta", false, false)]
    [InlineData(TuningMethod.HandcraftedPrompt, "bert", true, true)]
    [InlineData(TuningMethod.PTuningV1, "bert", true, true)]
    public void AZipRoundTripGivesIdenticalScoresForSentencesAndPairs(TuningMethod method, string modelType, bool pairs, bool lstm)
    {
        string folder = TinyMaskedLanguageModel.Get(modelType);
        string template = (method == TuningMethod.PTuningV1 ? "{prompt:3} " : "") + (pairs ? "{Sentence1} [SEP] {mask} , {Sentence2}" : "{Sentence1} It was {mask}.");
        var mlContext = new MLContext(seed: 1);
        TextRow[] rows = pairs ? TinyData.Pairs(perClass: 4, seed: 3) : TinyData.Text(perClass: 4, seed: 3);
        IDataView Data(MLContext context) => pairs ? TinyData.Load(context, rows) : TinyData.LoadSingle(context, rows);
        IDataView data = Data(mlContext);
        var options = Options(folder, method, template);
        options.MaxEpochs = 2;
        options.PromptEncoderLstm = lstm;
        if (pairs)
            options.Sentence2ColumnName = nameof(TextRow.Sentence2);
        ITransformer model = TinyData.TextPipeline(mlContext, options).Fit(data);
        float[][] before = TinyData.Scores(model.Transform(data));
        var transformer = TinyData.PrefixTuningOf(model);
        Assert.Equal(method, transformer.Method);
        Assert.Equal(template, transformer.PromptTemplate);
        // P-Tuning v1 is folded to its plain [3, H] vectors: nothing of the LSTM or MLP is kept; the handcrafted prompt stores nothing.
        Assert.Equal(method == TuningMethod.PTuningV1 ? 3 * 32 : 0, transformer.TrainedParameterCount);
        Assert.Equal(method == TuningMethod.PTuningV1 ? 3 : 0, transformer.PrefixLength);

        string path = Pipeline.ModelZipTests.Save(mlContext, model, data);
        var fresh = new MLContext(seed: 2);
        ITransformer loaded = fresh.Model.Load(path, out _);
        float[][] after = TinyData.Scores(loaded.Transform(Data(fresh)));
        Assert.Equal(0f, TinyData.MaxDifference(before, after));
        Assert.Equal(template, TinyData.PrefixTuningOf(loaded).PromptTemplate);
        // The pair reaches the model: another second sentence changes the scores.
        if (pairs)
        {
            var swapped = rows.Select((r, i) => new TextRow { Sentence1 = r.Sentence1, Sentence2 = rows[(i + 1) % rows.Length].Sentence2, Label = r.Label });
            Assert.True(TinyData.MaxDifference(before, TinyData.Scores(loaded.Transform(TinyData.Load(fresh, swapped)))) > 1e-4);
        }
    }

    [Theory]
    [InlineData("template", "PromptTemplate", "{mask}")]
    [InlineData("verbalizer", "Verbalizer", "'transfer'")]
    [InlineData("extra word", "Verbalizer", "'savings'")]
    [InlineData("no head", "BaseModelPath", "masked-language-model head")]
    [InlineData("pair", "PromptTemplate", "Sentence2ColumnName")]
    [InlineData("prompt in handcrafted", "PromptTemplate", "HandcraftedPrompt trains no prompt vectors")]
    [InlineData("no prompt in v1", "PromptTemplate", "nothing to train")]
    public void BadOptionsAreRefusedNamingTheOption(string what, string option, string expected)
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 2, seed: 3));
        var options = Options(what == "no head" ? TinyBaseModel.Get("roberta") : TinyMaskedLanguageModel.Get("roberta"),
            what == "no prompt in v1" ? TuningMethod.PTuningV1 : TuningMethod.HandcraftedPrompt);
        switch (what)
        {
            case "template":
                options.PromptTemplate = "{Sentence1} It was good.";
                break;
            case "verbalizer":
                options.Verbalizer = Words.Where(w => w.Key != "transfer").ToDictionary();
                break;
            case "extra word":
                options.Verbalizer = Words.Append(new("savings", ["money"])).ToDictionary();
                break;
            case "pair":
                options.PromptTemplate = "{Sentence1} {mask} {Sentence2}";
                break;
            case "prompt in handcrafted":
                options.PromptTemplate = "{prompt:2} {Sentence1} {mask}";
                break;
        }
        var error = Assert.ThrowsAny<ArgumentException>(() => TinyData.TextPipeline(mlContext, options).Fit(data));
        Assert.Equal(option, error.ParamName);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public void APromptLengthSweepOfPTuningV1TrainsEachLength()
    {
        string folder = TinyMaskedLanguageModel.Get("roberta");
        var mlContext = new MLContext(seed: 1);
        var keys = mlContext.Transforms.Conversion.MapValueToKey("Label").Fit(TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 4, seed: 1)));
        IDataView train = keys.Transform(TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 4, seed: 1)));
        IDataView validation = keys.Transform(TinyData.LoadSingle(mlContext, TinyData.Text(perClass: 2, seed: 2)));
        var options = Options(folder, TuningMethod.PTuningV1, "{prompt} {Sentence1} It was {mask}.");
        options.MaxEpochs = 1;
        var sweep = new PrefixTuningSweepOptions { PrefixLengths = [2, 5], LearningRates = [1e-2], Strategy = SweepStrategy.Grid };
        var result = new PrefixTuningSweeper(mlContext, options, sweep).Run(train, validation);
        Assert.Equal([2, 5], result.Trials.Select(t => t.PrefixLength));
        Assert.All(result.Trials, t => Assert.Equal(TrialStatus.Completed, t.Status));
        // Only the embedding grows with the length: 3 more vectors of H = 32.
        Assert.Equal(3 * 32, result.Trials[1].TrainableParameters - result.Trials[0].TrainableParameters);
        Assert.Equal(result.BestTrial.PrefixLength, TinyData.PrefixTuningOf(result.BestModel).PrefixLength);

        options.PromptTemplate = "{prompt:3} {Sentence1} It was {mask}.";
        Assert.Contains("{prompt} slot", Assert.Throws<ArgumentException>(() => new PrefixTuningSweeper(mlContext, options, sweep)).Message);
        options.Method = TuningMethod.HandcraftedPrompt;
        Assert.Contains("trains nothing", Assert.Throws<ArgumentException>(() => new PrefixTuningSweeper(mlContext, options, sweep)).Message);
    }

    private static string[] KeyNames(IDataView transformed)
    {
        VBuffer<ReadOnlyMemory<char>> names = default;
        transformed.Schema["Label"].GetKeyValues(ref names);
        return names.DenseValues().Select(n => n.ToString()).ToArray();
    }
}
