using Microsoft.ML.PTuning.Data;
using Microsoft.ML.PTuning.Evaluation;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Data;

/// <summary>The project's own sample data files are well formed and read with the documented readers.</summary>
public class SampleDataTests
{
    private static string SampleFile(string name) => Path.Combine(TestPaths.RepoRoot, "samples", "data", name);

    private sealed class IntentRow
    {
        public string Text { get; set; } = "";

        public string Intent { get; set; } = "";
    }

    [Fact]
    public void IntentsHaveEightBalancedIntentsOfDistinctTexts()
    {
        var mlContext = new MLContext(seed: 1);
        IDataView data = TextLabelCsv.Load(mlContext, SampleFile("intents.csv"), "Text", "Intent");
        IntentRow[] rows = mlContext.Data.CreateEnumerable<IntentRow>(data, reuseRowObject: false).ToArray();

        var byIntent = rows.GroupBy(r => r.Intent).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(new[] { "balance", "card_lost", "complaint", "greeting", "opening_hours", "password_reset", "refund", "transfer" },
            byIntent.Keys.Order(StringComparer.Ordinal));
        Assert.All(byIntent.Values, n => Assert.InRange(n, 38, 45));
        Assert.Equal(rows.Length, rows.Select(r => r.Text).Distinct().Count());
        Assert.Contains(rows, r => r.Text.Contains(','));
        Assert.Contains(rows, r => r.Text.Contains('"'));
        Assert.True(new FileInfo(SampleFile("intents.csv")).Length < 100_000);
    }

    [Fact]
    public void EntitiesAreStrictBioOverFourTypes()
    {
        var sentences = ConllReader.Read(SampleFile("entities.conll")).ToArray();

        Assert.InRange(sentences.Length, 190, 230);
        string[] types = { "LOC", "ORG", "PER", "PRODUCT" };
        foreach ((string[] tokens, string[] tags) in sentences)
        {
            for (int i = 0; i < tags.Length; i++)
            {
                Assert.True(tags[i] == "O" || types.Contains(tags[i][2..]), tags[i]);
                // strict IOB2: an I- tag continues an entity of its own type
                if (tags[i].StartsWith("I-", StringComparison.Ordinal))
                {
                    Assert.True(i > 0 && tags[i - 1] != "O" && tags[i - 1][2..] == tags[i][2..], string.Join(" ", tokens));
                }
            }
        }

        var entityTypes = sentences.SelectMany(s => EntityChunker.GetEntities(s.Tags)).GroupBy(e => e.Type).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(types, entityTypes.Keys.Order(StringComparer.Ordinal));
        Assert.All(entityTypes.Values, n => Assert.True(n >= 50));
        Assert.True(new FileInfo(SampleFile("entities.conll")).Length < 100_000);
    }
}
