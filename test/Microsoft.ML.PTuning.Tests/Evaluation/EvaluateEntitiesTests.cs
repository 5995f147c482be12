using Microsoft.ML.Data;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Evaluation;

/// <summary><c>mlContext.MulticlassClassification.EvaluateEntities</c> over real data views.</summary>
public class EvaluateEntitiesTests
{
    private sealed class TagRow
    {
        public string[] Tags { get; set; } = Array.Empty<string>();

        public string[] Predicted { get; set; } = Array.Empty<string>();
    }

    private sealed class KeyRow
    {
        [KeyType(3)]
        public uint[] Label { get; set; } = Array.Empty<uint>();

        [KeyType(3)]
        public uint[] PredictedLabel { get; set; } = Array.Empty<uint>();
    }

    private sealed class FloatRow
    {
        public float[] Label { get; set; } = Array.Empty<float>();

        public string[] PredictedLabel { get; set; } = Array.Empty<string>();
    }

    private static IDataView Load(MLContext mlContext, string[][] gold, string[][] predicted) =>
        mlContext.Data.LoadFromEnumerable(gold.Zip(predicted, (g, p) => new TagRow { Tags = g, Predicted = p }).ToArray());

    // Each column gets its own key mapping: different cardinalities (5 gold tags, 4 predicted) and orders.
    private static IDataView LoadAsKeys(MLContext mlContext, string[][] gold, string[][] predicted)
    {
        IDataView data = Load(mlContext, gold, predicted);
        var pipeline = mlContext.Transforms.Conversion.MapValueToKey("Label", "Tags")
            .Append(mlContext.Transforms.Conversion.MapValueToKey("PredictedLabel", "Predicted",
                keyOrdinality: Microsoft.ML.Transforms.ValueToKeyMappingEstimator.KeyOrdinality.ByValue));
        return pipeline.Fit(data).Transform(data);
    }

    [Fact]
    public void KeyColumnsMappedByMapValueToKeyAreComparedByTagName()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = LoadAsKeys(mlContext, EntityMetricsTests.HandGold, EntityMetricsTests.HandPredicted);
        var label = (VectorDataViewType)data.Schema["Label"].Type;
        var predicted = (VectorDataViewType)data.Schema["PredictedLabel"].Type;
        Assert.NotEqual(((KeyDataViewType)label.ItemType).Count, ((KeyDataViewType)predicted.ItemType).Count);

        EntityMetricsTests.AssertHandExample(mlContext.MulticlassClassification.EvaluateEntities(data));
    }

    [Fact]
    public void TextVectorsWork()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = Load(mlContext, EntityMetricsTests.HandGold, EntityMetricsTests.HandPredicted);
        EntityMetricsTests.AssertHandExample(mlContext.MulticlassClassification.EvaluateEntities(data, "Tags", "Predicted"));
    }

    [Fact]
    public void AKeyLabelAndATextPredictionWork()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = LoadAsKeys(mlContext, EntityMetricsTests.HandGold, EntityMetricsTests.HandPredicted);
        EntityMetricsTests.AssertHandExample(mlContext.MulticlassClassification.EvaluateEntities(data, "Label", "Predicted"));
    }

    [Fact]
    public void TheSeqevalReadmeExampleScoresHalfThroughADataView()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = LoadAsKeys(mlContext,
            new[] { new[] { "O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O" }, new[] { "B-PER", "I-PER", "O" } },
            new[] { new[] { "O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O" }, new[] { "B-PER", "I-PER", "O" } });
        EntityMetrics m = mlContext.MulticlassClassification.EvaluateEntities(data);
        Assert.Equal(0.5, m.F1, 12);
        Assert.Equal(0.8, m.TokenAccuracy, 12);
    }

    [Fact]
    public void AMissingColumnIsNamed()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = Load(mlContext, EntityMetricsTests.HandGold, EntityMetricsTests.HandPredicted);
        var error = Assert.Throws<ArgumentOutOfRangeException>(() =>
            mlContext.MulticlassClassification.EvaluateEntities(data, "Tags", "Guess"));
        Assert.Equal("predictedLabelColumnName", error.ParamName);
        Assert.Contains("'Guess' was not found", error.Message);
        Assert.Contains("'Predicted'", error.Message); // lists what is there
    }

    [Fact]
    public void AColumnOfTheWrongTypeIsNamedWithTheExpectedAndActualType()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new FloatRow { Label = new[] { 1f }, PredictedLabel = new[] { "O" } } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.EvaluateEntities(data));
        Assert.Equal("labelColumnName", error.ParamName);
        Assert.Contains("'Label'", error.Message);
        Assert.Contains("Vector<Single", error.Message);
        Assert.Contains("expected a vector of key type", error.Message);
    }

    [Fact]
    public void AScalarTextColumnIsRejected()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new { Label = "B-PER I-PER", PredictedLabel = "B-PER I-PER" } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.EvaluateEntities(data));
        Assert.Contains("'Label' has type String", error.Message);
    }

    [Fact]
    public void KeysWithoutTagNamesAreRejected()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = mlContext.Data.LoadFromEnumerable(new[] { new KeyRow { Label = new uint[] { 1, 2 }, PredictedLabel = new uint[] { 1, 2 } } });
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => mlContext.MulticlassClassification.EvaluateEntities(data));
        Assert.Contains("'Label'", error.Message);
        Assert.Contains("no KeyValues annotation", error.Message);
    }

    [Fact]
    public void ARowWhoseLengthsDifferIsNamed()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = LoadAsKeys(mlContext,
            new[] { new[] { "B-PER", "O" }, new[] { "O", "B-LOC", "I-LOC" } },
            new[] { new[] { "B-PER", "O" }, new[] { "O", "B-LOC" } });
        var error = Assert.Throws<InvalidOperationException>(() => mlContext.MulticlassClassification.EvaluateEntities(data));
        Assert.Contains("Row 1 has 3 tags in label column 'Label' but 2 in predicted column 'PredictedLabel'", error.Message);
    }
}
