namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>
/// Models trained once for the pipeline tests that only use them (prediction, save/load, concurrency, bad input at
/// prediction time): prefix tuning over the shared tiny RoBERTa base, for text and for tokens.
/// </summary>
public sealed class TrainedModels
{
    private readonly Lazy<ITransformer> _text;
    private readonly Lazy<ITransformer> _tokens;

    public TrainedModels()
    {
        TextData = TinyData.LoadSingle(Context, TinyData.Text(perClass: 16, seed: 1));
        TokenData = TinyData.Load(Context, TinyData.Tokens(count: 48, seed: 2));
        _text = new(() => TinyData.TextPipeline(Context, TinyData.TextOptions(TinyBaseModel.Get())).Fit(TextData));
        _tokens = new(() => TinyData.TokenPipeline(Context, TinyData.TokenOptions(TinyBaseModel.Get())).Fit(TokenData));
    }

    public MLContext Context { get; } = new(seed: 1);

    /// <summary>The single-sentence training data (Sentence1, Label).</summary>
    public IDataView TextData { get; }

    /// <summary>The token training data (Sentence, Tags).</summary>
    public IDataView TokenData { get; }

    /// <summary>MapValueToKey → prefix tuning → MapKeyToValue("PredictedText").</summary>
    public ITransformer Text => _text.Value;

    /// <summary>MapValueToKey(Tags) → prefix tuning → MapKeyToValue("PredictedTags").</summary>
    public ITransformer Tokens => _tokens.Value;
}
