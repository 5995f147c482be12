namespace Microsoft.ML.PTuning.Cli.Data;

/// <summary>What <c>--task</c> asks for.</summary>
internal enum CliTask
{
    /// <summary>Text classification: one label per text (or text pair).</summary>
    Text,

    /// <summary>Named-entity recognition (token classification): one tag per word.</summary>
    Ner,
}
