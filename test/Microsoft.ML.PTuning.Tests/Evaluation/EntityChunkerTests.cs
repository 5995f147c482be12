using Microsoft.ML.PTuning.Evaluation;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Evaluation;

/// <summary>Entity extraction follows seqeval's default (conlleval) rules, checked on hand-worked sequences.</summary>
public class EntityChunkerTests
{
    private static EntitySpan[] Chunk(params string[] tags) => EntityChunker.GetEntities(tags).ToArray();

    [Fact]
    public void SeqevalDocstringExample()
    {
        Assert.Equal(new[] { new EntitySpan("PER", 0, 1), new EntitySpan("LOC", 3, 3) }, Chunk("B-PER", "I-PER", "O", "B-LOC"));
    }

    [Fact]
    public void AnInsideTagAfterOutsideStartsAnEntity()
    {
        Assert.Equal(new[] { new EntitySpan("PER", 1, 2) }, Chunk("O", "I-PER", "I-PER", "O"));
        Assert.Equal(new[] { new EntitySpan("LOC", 0, 0) }, Chunk("I-LOC"));
    }

    [Fact]
    public void ATypeChangeInsideAChunkSplitsIt()
    {
        Assert.Equal(new[] { new EntitySpan("PER", 0, 0), new EntitySpan("LOC", 1, 2) }, Chunk("B-PER", "I-LOC", "I-LOC"));
        Assert.Equal(new[] { new EntitySpan("ORG", 0, 1), new EntitySpan("PER", 2, 2), new EntitySpan("ORG", 3, 3) },
            Chunk("I-ORG", "I-ORG", "I-PER", "I-ORG"));
    }

    [Fact]
    public void ABeginTagAfterABeginTagOfTheSameTypeStartsANewEntity()
    {
        Assert.Equal(new[] { new EntitySpan("PER", 0, 0), new EntitySpan("PER", 1, 2) }, Chunk("B-PER", "B-PER", "I-PER"));
    }

    [Fact]
    public void AnEntityAtTheEndOfTheSequenceIsClosed()
    {
        Assert.Equal(new[] { new EntitySpan("ORG", 1, 2) }, Chunk("O", "B-ORG", "I-ORG"));
    }

    [Fact]
    public void TypesMayContainHyphens()
    {
        // WNUT-17 has types such as creative-work.
        Assert.Equal(new[] { new EntitySpan("creative-work", 0, 1), new EntitySpan("person", 2, 2) },
            Chunk("B-creative-work", "I-creative-work", "B-person"));
    }

    [Fact]
    public void NoTagsOrOnlyOutsideTagsGiveNoEntities()
    {
        Assert.Empty(Chunk());
        Assert.Empty(Chunk("O", "O", "O"));
    }

    [Fact]
    public void IobesTagsAreReadAsSeqevalReadsThem()
    {
        // S-PER is single; E-LOC closes B-LOC; an E after an E opens a new one-token entity.
        Assert.Equal(new[] { new EntitySpan("PER", 0, 0), new EntitySpan("LOC", 1, 2), new EntitySpan("LOC", 3, 3) },
            Chunk("S-PER", "B-LOC", "E-LOC", "E-LOC"));
    }

    [Fact]
    public void TagsWithoutPrefixAreInsideTags()
    {
        Assert.Equal(new[] { new EntitySpan("PER", 0, 1), new EntitySpan("LOC", 3, 3) }, Chunk("PER", "PER", "O", "LOC"));
        // bare prefixes get seqeval's empty type "_"
        Assert.Equal(new[] { new EntitySpan("_", 0, 1), new EntitySpan("_", 2, 2) }, Chunk("B", "I", "B"));
    }

    [Fact]
    public void ANullTagIsRejectedWithItsPosition()
    {
        var error = Assert.Throws<ArgumentException>(() => EntityChunker.GetEntities(new[] { "O", null! }));
        Assert.Contains("position 1", error.Message);
    }

    [Fact]
    public void EntitiesOfRandomBioSequencesPartitionTheNonOutsideTokensAndSurviveReencoding()
    {
        string[] alphabet = { "O", "B-PER", "I-PER", "B-LOC", "I-LOC" };
        var random = new Random(17);
        for (int trial = 0; trial < 500; trial++)
        {
            string[] tags = Enumerable.Range(0, random.Next(0, 12)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray();
            EntitySpan[] entities = Chunk(tags);

            // in order, disjoint, covering every non-O token exactly once, each token of its entity's type
            var covered = new bool[tags.Length];
            int previousEnd = -1;
            foreach (EntitySpan e in entities)
            {
                Assert.True(e.Start > previousEnd && e.End >= e.Start, string.Join(" ", tags));
                for (int i = e.Start; i <= e.End; i++)
                {
                    Assert.EndsWith("-" + e.Type, tags[i]);
                    covered[i] = true;
                }

                previousEnd = e.End;
            }

            Assert.Equal(tags.Select(t => t != "O"), covered);

            // writing the entities back as strict IOB2 gives the same entities
            string[] iob2 = Enumerable.Repeat("O", tags.Length).ToArray();
            foreach (EntitySpan e in entities)
            {
                for (int i = e.Start; i <= e.End; i++)
                {
                    iob2[i] = (i == e.Start ? "B-" : "I-") + e.Type;
                }
            }

            Assert.Equal(entities, Chunk(iob2));
        }
    }
}
