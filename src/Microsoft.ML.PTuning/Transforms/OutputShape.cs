namespace Microsoft.ML.PTuning.Transforms;

/// <summary>The kinds of column a task adds.</summary>
internal enum OutputShape
{
    /// <summary>One key per row, over the label's classes (with its key values).</summary>
    ClassKey,

    /// <summary>One key per word, a variable-length vector over the label's classes (with its key values).</summary>
    ClassKeyPerWord,

    /// <summary>One probability per class, a vector of float as long as the class count.</summary>
    ClassProbabilities,
}
