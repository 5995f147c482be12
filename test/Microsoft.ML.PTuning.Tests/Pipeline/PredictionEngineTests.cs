using Microsoft.ML.Data;
using Xunit;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

[Collection(PipelineCollection.Name)]
public class PredictionEngineTests(TrainedModels models, ITestOutputHelper output)
{
    private static readonly TextRow[] Rows = TinyData.Text(perClass: 16, seed: 1);

    [Fact]
    public void APredictionEngineOverTheWholePipelineAgreesWithTransform()
    {
        float[][] expected = TinyData.Scores(models.Text.Transform(models.TextData));
        string[] expectedText = models.Text.Transform(models.TextData).GetColumn<string>("PredictedText").ToArray();
        var engine = models.Context.Model.CreatePredictionEngine<TextRow, TextPrediction>(models.Text);
        for (int i = 0; i < Rows.Length; i++)
        {
            var prediction = engine.Predict(Rows[i]);
            Assert.Equal(expectedText[i], prediction.PredictedText);
            Assert.Equal(expected[i].Length, prediction.Score.Length);
            // One row alone has no padding, so it may differ from the batch in the last bits only.
            Assert.True(TinyData.MaxDifference([expected[i]], [prediction.Score]) < 1e-5);
        }
    }

    [Fact]
    public void ATokenPredictionEngineGivesOneTagPerWord()
    {
        var engine = models.Context.Model.CreatePredictionEngine<TokenRow, TokenPrediction>(models.Tokens);
        foreach (var row in TinyData.Tokens(count: 6, seed: 8))
        {
            var prediction = engine.Predict(row);
            Assert.Equal(row.Tags.Length, prediction.PredictedTags.Length);
        }
        Assert.Equal(12, engine.Predict(new TokenRow { Sentence = string.Join(' ', Enumerable.Repeat("card money", 6)), Tags = new string[12] }).PredictedTags.Length);
    }

    [Fact]
    public void RepeatedPredictionsLeakNoTensors()
    {
        var text = models.Context.Model.CreatePredictionEngine<TextRow, TextPrediction>(models.Text);
        var tokens = models.Context.Model.CreatePredictionEngine<TokenRow, TokenPrediction>(models.Tokens);
        var tokenRows = TinyData.Tokens(count: 10, seed: 9);
        for (int i = 0; i < 50; i++)
        {
            text.Predict(Rows[i % Rows.Length]);
            tokens.Predict(tokenRows[i % tokenRows.Length]);
        }

        long before = Tensor.TotalCount;
        long managedBefore = GC.GetTotalMemory(forceFullCollection: true);
        for (int i = 0; i < 1000; i++)
        {
            text.Predict(Rows[i % Rows.Length]);
            tokens.Predict(tokenRows[i % tokenRows.Length]);
        }
        long growth = Tensor.TotalCount - before;
        long managedGrowth = GC.GetTotalMemory(forceFullCollection: true) - managedBefore;
        output.WriteLine($"live tensors {before} -> {Tensor.TotalCount}; managed memory growth {managedGrowth:N0} bytes");
        // 2000 forward passes: a leak of even one tensor per pass would show as thousands.
        Assert.True(growth < 20, $"{growth} tensors were left alive by 2000 predictions");
        Assert.True(managedGrowth < 4_000_000, $"managed memory grew by {managedGrowth:N0} bytes");
    }

    [Fact]
    public void ThreadsPredictingOnOneTransformerGetTheSequentialResults()
    {
        float[][] sequential = TinyData.Scores(models.Text.Transform(models.TextData));
        var single = models.Context.Model.CreatePredictionEngine<TextRow, TextPrediction>(models.Text);
        float[][] sequentialEngine = Rows.Select(r => single.Predict(r).Score).ToArray();

        var errors = new System.Collections.Concurrent.ConcurrentBag<string>();
        var threads = Enumerable.Range(0, 4).Select(t => new Thread(() =>
        {
            try
            {
                var engine = models.Context.Model.CreatePredictionEngine<TextRow, TextPrediction>(models.Text);
                for (int round = 0; round < 3; round++)
                {
                    float[][] transformed = TinyData.Scores(models.Text.Transform(models.TextData));
                    if (TinyData.MaxDifference(sequential, transformed) != 0)
                        errors.Add($"thread {t}: Transform differs");
                    for (int i = 0; i < Rows.Length; i++)
                    {
                        if (TinyData.MaxDifference([sequentialEngine[i]], [engine.Predict(Rows[i]).Score]) != 0)
                            errors.Add($"thread {t}: engine row {i} differs");
                    }
                }
            }
            catch (Exception e)
            {
                errors.Add($"thread {t}: {e}");
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        Assert.Empty(errors);
    }

    [Fact]
    public void PredictionsWhileAnotherModelTrainsOnTheSameBaseAreUnchanged()
    {
        // Both use TinyBaseModel.Get(), so they share one loaded encoder whose train/eval mode training switches.
        float[][] sequential = TinyData.Scores(models.Text.Transform(models.TextData));
        var training = new Thread(() =>
            TinyData.TextPipeline(models.Context, TinyData.TextOptions(TinyBaseModel.Get(), epochs: 4)).Fit(models.TextData));
        training.Start();
        int rounds = 0;
        while (training.IsAlive || rounds == 0)
        {
            float[][] during = TinyData.Scores(models.Text.Transform(models.TextData));
            Assert.Equal(0f, TinyData.MaxDifference(sequential, during)); // dropout never leaks into inference
            rounds++;
            Thread.Sleep(20); // leave the training thread room to take the base model's gate
        }
        training.Join();
        output.WriteLine($"{rounds} transforms ran while the other model trained");
    }
}
