using Microsoft.ML.PTuning.Modeling;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tokenization;

namespace Microsoft.ML.PTuning.Transforms;

/// <summary>
/// The options of the masked-LM methods (HandcraftedPrompt, PTuningV1) checked against the base model, the columns and
/// the label's classes, and recorded in the task's shape: the resolved template and each class's label words.
/// </summary>
internal static class PromptSetup
{
    /// <summary><paramref name="spec"/> with template and label words for those methods; unchanged for the others.</summary>
    /// <exception cref="ArgumentException">An option does not fit the base, the columns or the labels (named).</exception>
    public static TaskSpec Apply(TaskSpec spec, PrefixTuningOptions options, BaseModel baseModel, TaskColumns columns, string[]? classNames)
    {
        if (!spec.UsesMaskedLanguageModel)
            return spec;
        var text = (PrefixTuningTextClassificationOptions)options;   // the token options refuse these methods
        if (baseModel.MaskedLanguageModelHead is null)
            throw new ArgumentException(TaskModels.NoHeadMessage(baseModel, spec.Method), nameof(PrefixTuningOptions.BaseModelPath));

        var template = PromptTemplate.Create(text.PromptTemplate, baseModel.Tokenizer, options.PrefixLength);
        if (spec.Method == TuningMethod.HandcraftedPrompt && template.PromptLength > 0)
            throw new ArgumentException($"PromptTemplate has {{prompt:N}} slots, but Method HandcraftedPrompt trains no prompt vectors: remove them or use PTuningV1.", nameof(text.PromptTemplate));
        if (spec.Method == TuningMethod.PTuningV1 && template.PromptLength == 0)
            throw new ArgumentException("PromptTemplate has no {prompt:N} slot, so Method PTuningV1 would have nothing to train: add one (e.g. \"{prompt:3} {Sentence1} {prompt:3} {mask}.\").", nameof(text.PromptTemplate));
        if (template.HasSentence2 && columns.Sentence2 is null)
            throw new ArgumentException("PromptTemplate has a {Sentence2} slot, but Sentence2ColumnName is not set.", nameof(text.PromptTemplate));
        if (!template.HasSentence2 && columns.Sentence2 is not null)
            throw new ArgumentException($"Sentence2ColumnName is '{columns.Sentence2}', but PromptTemplate has no {{Sentence2}} slot to put it in.", nameof(text.PromptTemplate));

        if (classNames is null)
        {
            throw new ArgumentException($"Verbalizer maps label values to words, but the label column '{columns.Label}' has no key values " +
                "(map it with MapValueToKey from a text column).", nameof(text.Verbalizer));
        }
        var verbalizer = text.Verbalizer!;
        var missing = classNames.Where(name => !verbalizer.ContainsKey(name)).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"Verbalizer has no label words for the label value(s) {string.Join(", ", missing.Select(m => $"'{m}'"))} of column '{columns.Label}'.", nameof(text.Verbalizer));
        var unknown = verbalizer.Keys.Where(key => !classNames.Contains(key, StringComparer.Ordinal)).ToList();
        if (unknown.Count > 0)
            throw new ArgumentException($"Verbalizer maps {string.Join(", ", unknown.Select(u => $"'{u}'"))}, not a value of the label column '{columns.Label}' ({string.Join(", ", classNames)}).", nameof(text.Verbalizer));
        var words = classNames.Select(name => verbalizer[name].Select(w => w.Trim()).ToArray()).ToArray();
        foreach (var (name, classWords) in classNames.Zip(words))
        {
            foreach (string word in classWords)
            {
                if (baseModel.Tokenizer.EncodeWord(word).Length == 0)
                    throw new ArgumentException($"Verbalizer word '{word}' of '{name}' gives no token with the base model's tokenizer.", nameof(text.Verbalizer));
            }
        }
        int maxTokens = baseModel.Config.MaxTokens(options.MaxSequenceLength, spec.PositionsUsed);
        if (template.FixedTokens >= maxTokens)
        {
            throw new ArgumentException($"PromptTemplate takes {template.FixedTokens} tokens (text, prompt vectors, start and end), leaving none of " +
                $"the {maxTokens}-token budget (MaxSequenceLength) for the sentences.", nameof(text.PromptTemplate));
        }
        return spec with { PromptTemplate = template.ResolvedText, LabelWords = words };
    }
}
