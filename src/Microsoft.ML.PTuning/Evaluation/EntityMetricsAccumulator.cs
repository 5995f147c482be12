namespace Microsoft.ML.PTuning.Evaluation;

/// <summary>
/// Collects gold and predicted tag sequences one sentence at a time and turns them into <see cref="EntityMetrics"/>.
/// The IDataView evaluator feeds it row by row; code with plain string arrays (the benchmarks) can use
/// <see cref="Compute"/>.
/// </summary>
internal sealed class EntityMetricsAccumulator
{
    private sealed class Counts
    {
        public int Gold;
        public int Predicted;
        public int Correct;
    }

    private readonly SortedDictionary<string, Counts> _byType = new(StringComparer.Ordinal);
    private long _tokens;
    private long _matchingTokens;
    private int _sentences;

    /// <summary>Scores whole corpora given as parallel lists of sentences.</summary>
    internal static EntityMetrics Compute(IReadOnlyList<IReadOnlyList<string>> gold, IReadOnlyList<IReadOnlyList<string>> predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        if (gold.Count != predicted.Count)
        {
            throw new ArgumentException(
                $"There are {gold.Count} gold sentences but {predicted.Count} predicted ones; expected one prediction per sentence.",
                nameof(predicted));
        }

        var accumulator = new EntityMetricsAccumulator();
        for (int i = 0; i < gold.Count; i++)
        {
            accumulator.Add(gold[i], predicted[i]);
        }

        return accumulator.ToMetrics();
    }

    /// <summary>Adds one sentence: its gold tags and the predicted tags, one per token.</summary>
    /// <exception cref="ArgumentException">The two sequences differ in length; the message names the sentence index.</exception>
    internal void Add(IReadOnlyList<string> gold, IReadOnlyList<string> predicted)
    {
        ArgumentNullException.ThrowIfNull(gold);
        ArgumentNullException.ThrowIfNull(predicted);
        int sentence = _sentences;
        if (gold.Count != predicted.Count)
        {
            throw new ArgumentException(
                $"Sentence {sentence} has {gold.Count} gold tags but {predicted.Count} predicted tags; expected one predicted tag per token.",
                nameof(predicted));
        }

        for (int i = 0; i < gold.Count; i++)
        {
            if (string.Equals(gold[i], predicted[i], StringComparison.Ordinal))
            {
                _matchingTokens++;
            }
        }

        _tokens += gold.Count;

        List<EntitySpan> goldEntities = EntityChunker.GetEntities(gold);
        List<EntitySpan> predictedEntities = EntityChunker.GetEntities(predicted);
        var goldSet = new HashSet<EntitySpan>(goldEntities);
        foreach (EntitySpan entity in goldEntities)
        {
            CountsOf(entity.Type).Gold++;
        }

        foreach (EntitySpan entity in predictedEntities)
        {
            Counts counts = CountsOf(entity.Type);
            counts.Predicted++;
            if (goldSet.Contains(entity))
            {
                counts.Correct++;
            }
        }

        _sentences++;
    }

    /// <summary>The metrics of every sentence added so far.</summary>
    internal EntityMetrics ToMetrics()
    {
        var perType = new Dictionary<string, EntityTypeMetrics>(StringComparer.Ordinal);
        int correct = 0, predicted = 0, gold = 0;
        foreach ((string type, Counts counts) in _byType)
        {
            perType.Add(type, new EntityTypeMetrics(counts.Correct, counts.Predicted, counts.Gold));
            correct += counts.Correct;
            predicted += counts.Predicted;
            gold += counts.Gold;
        }

        double tokenAccuracy = _tokens > 0 ? (double)_matchingTokens / _tokens : 0.0;
        return new EntityMetrics(correct, predicted, gold, tokenAccuracy, perType.AsReadOnly());
    }

    private Counts CountsOf(string type)
    {
        if (!_byType.TryGetValue(type, out Counts? counts))
        {
            counts = new Counts();
            _byType.Add(type, counts);
        }

        return counts;
    }
}
