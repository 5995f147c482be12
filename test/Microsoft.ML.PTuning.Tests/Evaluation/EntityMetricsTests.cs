using Microsoft.ML.PTuning.Evaluation;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Evaluation;

/// <summary>Entity metrics on plain string sequences, against values worked out by hand.</summary>
public class EntityMetricsTests
{
    private const int Digits = 12;

    private static EntityMetrics Score(string[][] gold, string[][] predicted) => EntityMetricsAccumulator.Compute(gold, predicted);

    [Fact]
    public void SeqevalReadmeExampleScoresHalf()
    {
        string[][] gold = { new[] { "O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O" }, new[] { "B-PER", "I-PER", "O" } };
        string[][] predicted = { new[] { "O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O" }, new[] { "B-PER", "I-PER", "O" } };

        EntityMetrics m = Score(gold, predicted);

        Assert.Equal(0.5, m.Precision, Digits);
        Assert.Equal(0.5, m.Recall, Digits);
        Assert.Equal(0.5, m.F1, Digits);
        Assert.Equal(0.5, m.MacroF1, Digits);
        Assert.Equal(0.8, m.TokenAccuracy, Digits); // seqeval's accuracy_score gives 0.80 too
        Assert.Equal(new[] { "MISC", "PER" }, m.PerEntityType.Keys.OrderBy(k => k, StringComparer.Ordinal));
        Assert.Equal(0.0, m.PerEntityType["MISC"].F1, Digits);
        Assert.Equal(1, m.PerEntityType["MISC"].Support);
        Assert.Equal(1.0, m.PerEntityType["PER"].Precision, Digits);
        Assert.Equal(1.0, m.PerEntityType["PER"].Recall, Digits);
        Assert.Equal(1, m.PerEntityType["PER"].Support);
    }

    // gold: PER(0:0-1) LOC(0:3) ORG(1:0) PER(1:2); predicted: PER(0:0-1) ORG(0:3) ORG(1:0)
    internal static readonly string[][] HandGold = { new[] { "B-PER", "I-PER", "O", "B-LOC" }, new[] { "B-ORG", "O", "B-PER" } };
    internal static readonly string[][] HandPredicted = { new[] { "B-PER", "I-PER", "O", "B-ORG" }, new[] { "B-ORG", "O", "O" } };

    internal static void AssertHandExample(EntityMetrics m)
    {
        Assert.Equal(2.0 / 3, m.Precision, Digits);
        Assert.Equal(0.5, m.Recall, Digits);
        Assert.Equal(4.0 / 7, m.F1, Digits);
        Assert.Equal(5.0 / 7, m.TokenAccuracy, Digits);
        Assert.Equal(3, m.PerEntityType.Count);

        AssertType(m.PerEntityType["PER"], 1.0, 0.5, 2.0 / 3, 2);
        AssertType(m.PerEntityType["LOC"], 0.0, 0.0, 0.0, 1);
        AssertType(m.PerEntityType["ORG"], 0.5, 1.0, 2.0 / 3, 1);
        Assert.Equal(4.0 / 9, m.MacroF1, Digits);
    }

    private static void AssertType(EntityTypeMetrics actual, double precision, double recall, double f1, int support)
    {
        Assert.Equal(precision, actual.Precision, Digits);
        Assert.Equal(recall, actual.Recall, Digits);
        Assert.Equal(f1, actual.F1, Digits);
        Assert.Equal(support, actual.Support);
    }

    [Fact]
    public void MicroMacroAndPerTypeScoresMatchAHandWorkedExample()
    {
        AssertHandExample(Score(HandGold, HandPredicted));
    }

    [Fact]
    public void AnEntityFoundOnlyInPartIsWrong()
    {
        EntityMetrics m = Score(new[] { new[] { "B-PER", "I-PER", "O" } }, new[] { new[] { "B-PER", "O", "O" } });
        Assert.Equal(0.0, m.F1);
        Assert.Equal(2.0 / 3, m.TokenAccuracy, Digits);
    }

    [Fact]
    public void EntitiesAreMatchedWithinTheirOwnSentence()
    {
        // the same type and offsets, but in another sentence
        EntityMetrics m = Score(new[] { new[] { "B-PER", "O" }, new[] { "O", "O" } }, new[] { new[] { "O", "O" }, new[] { "B-PER", "O" } });
        Assert.Equal(0.0, m.Precision);
        Assert.Equal(0.0, m.Recall);
    }

    [Fact]
    public void AllOutsideDataScoresZeroWithoutDividingByZero()
    {
        EntityMetrics m = Score(new[] { new[] { "O", "O" }, new[] { "O" } }, new[] { new[] { "O", "O" }, new[] { "O" } });
        Assert.Equal((0.0, 0.0, 0.0, 0.0), (m.Precision, m.Recall, m.F1, m.MacroF1));
        Assert.Equal(1.0, m.TokenAccuracy);
        Assert.Empty(m.PerEntityType);
    }

    [Fact]
    public void NoSentencesScoreZero()
    {
        EntityMetrics m = Score(Array.Empty<string[]>(), Array.Empty<string[]>());
        Assert.Equal((0.0, 0.0, 0.0, 0.0, 0.0), (m.Precision, m.Recall, m.F1, m.MacroF1, m.TokenAccuracy));
    }

    [Fact]
    public void ATypeOnlyPredictedHasZeroSupportAndCountsInTheMacroAverage()
    {
        EntityMetrics m = Score(new[] { new[] { "B-PER", "O" } }, new[] { new[] { "B-PER", "B-LOC" } });
        Assert.Equal(0, m.PerEntityType["LOC"].Support);
        Assert.Equal(0.0, m.PerEntityType["LOC"].Precision);
        Assert.Equal(0.5, m.Precision, Digits);
        Assert.Equal(1.0, m.Recall, Digits);
        Assert.Equal(0.5, m.MacroF1, Digits); // (PER 1 + LOC 0) / 2
    }

    [Fact]
    public void PredictingTheGoldTagsScoresOne()
    {
        EntityMetrics m = Score(HandGold, HandGold);
        Assert.Equal((1.0, 1.0, 1.0, 1.0, 1.0), (m.Precision, m.Recall, m.F1, m.MacroF1, m.TokenAccuracy));
    }

    [Fact]
    public void SentencesOfDifferentLengthsAreRejectedWithTheirIndex()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            Score(new[] { new[] { "O" }, new[] { "O", "B-PER" } }, new[] { new[] { "O" }, new[] { "O" } }));
        Assert.Contains("Sentence 1", error.Message);

        error = Assert.Throws<ArgumentException>(() => Score(new[] { new[] { "O" } }, Array.Empty<string[]>()));
        Assert.Contains("1 gold sentences but 0 predicted", error.Message);
    }
}
