namespace Microsoft.ML.PTuning;

/// <summary>
/// How a sequence-classification head turns the encoder's hidden states into one vector per input
/// (<see cref="PrefixTuningTextClassificationOptions.Pooling"/>).
/// </summary>
public enum PoolingMode
{
    /// <summary>
    /// <see cref="Mean"/> when the base model folder is a sentence-transformers model whose pooling module
    /// (<c>modules.json</c> → <c>1_Pooling/config.json</c>) averages token embeddings, <see cref="Cls"/> when that module
    /// reads the first token or the folder has no such module. Other sentence-transformers poolings (max, weighted mean,
    /// last token) are refused, naming the file: set the option explicitly then. Decided once, at <c>Fit</c>; the zip
    /// stores the resolved value.
    /// </summary>
    Auto = 0,

    /// <summary>
    /// The first token, as Hugging Face's sequence-classification heads read it: BERT's pooler (<c>dense</c> + tanh on
    /// [CLS]) then the classifier; RoBERTa's <c>classifier.dense</c> + tanh + <c>out_proj</c> on &lt;s&gt;.
    /// </summary>
    Cls = 1,

    /// <summary>
    /// The mean of the final hidden states over the real tokens (padding and any prefix or prompt positions excluded),
    /// as sentence-transformers pools, then dropout and one linear classifier (<c>classifier.weight</c>,
    /// <c>classifier.bias</c>). The pooling that encoders trained as sentence embedders were trained for.
    /// </summary>
    Mean = 2,
}
