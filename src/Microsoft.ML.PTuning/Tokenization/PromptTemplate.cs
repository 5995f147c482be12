using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// A cloze template for masked-language-model prompting (the public option <c>PromptTemplate</c>): text with the slots
/// <c>{Sentence1}</c>, <c>{Sentence2}</c>, <c>{mask}</c> and <c>{prompt:N}</c> (N trainable vectors; <c>{prompt}</c> takes
/// the option <c>PrefixLength</c> vectors), rendered into token ids between the tokenizer's own start and end tokens.
/// </summary>
/// <remarks>
/// <para>
/// <b>Rendering.</b> <c>[CLS] template [SEP]</c> (RoBERTa <c>&lt;s&gt; … &lt;/s&gt;</c>). The template's text is tokenized once,
/// with <c>{mask}</c> written as the tokenizer's mask token (so RoBERTa's <c>&lt;mask&gt;</c> swallows the space before it,
/// as in Hugging Face); special tokens written literally (<c>[SEP]</c>, <c>&lt;/s&gt;</c>) become their ids. White space
/// before a sentence slot moves onto the sentence, so RoBERTa reads <c>"Review: {Sentence1}"</c> as Hugging Face reads
/// the whole string (<c>Ġgreat</c>, not <c>Ġ</c> then <c>great</c>). A mask token written inside a sentence is read as
/// the unknown token: the template's <c>{mask}</c> is the only mask of a rendered input. Token types (BERT): 0 up to and
/// including the first <c>[SEP]</c> the template writes, 1 after it; with no <c>[SEP]</c> in the template, all 0.
/// </para>
/// <para>
/// <b>Prompt vectors.</b> Each of the Q vectors of the <c>{prompt:N}</c> slots, numbered k = 0..Q−1 in template order, is
/// rendered as the id <c>−(k + 1)</c>: not a vocabulary id, so the model puts prompt vector k there instead of a word
/// embedding (<see cref="PromptSlotId"/>).
/// </para>
/// <para>
/// <b>Truncation</b> cuts the sentences, never the template: the template's tokens, the prompt vectors and the two
/// special tokens are kept, and the sentences share the rest of the budget longest-first (Hugging Face's
/// <c>longest_first</c>, from their ends).
/// </para>
/// </remarks>
internal sealed partial class PromptTemplate
{
    /// <summary>The public option this template comes from (errors name it).</summary>
    public const string OptionName = "PromptTemplate";

    private readonly Piece[] _pieces;
    private readonly int _fixedTokens;   // template tokens + prompt vectors + the start and end tokens
    private readonly EncoderTokenizer _tokenizer;

    private PromptTemplate(EncoderTokenizer tokenizer, string resolvedText, Piece[] pieces, bool hasSentence2, int promptLength)
    {
        _tokenizer = tokenizer;
        ResolvedText = resolvedText;
        _pieces = pieces;
        HasSentence2 = hasSentence2;
        PromptLength = promptLength;
        _fixedTokens = 2 + promptLength + pieces.Sum(p => p.Tokens?.Length ?? 0);
    }

    /// <summary>The template with every <c>{prompt}</c> written as <c>{prompt:N}</c>: what a saved model records.</summary>
    public string ResolvedText { get; }

    /// <summary>Whether the template has a <c>{Sentence2}</c> slot (sentence pairs).</summary>
    public bool HasSentence2 { get; }

    /// <summary>Q, the prompt vectors of all <c>{prompt:N}</c> slots together (0 without any).</summary>
    public int PromptLength { get; }

    /// <summary>The tokens every rendered input holds whatever its sentences: template, prompt vectors, start and end.</summary>
    public int FixedTokens => _fixedTokens;

    /// <summary>The id prompt vector <paramref name="index"/> (0-based) is rendered as: <c>−(index + 1)</c>.</summary>
    public static int PromptSlotId(int index) => -(index + 1);

    /// <summary>Whether <paramref name="text"/> holds a <c>{prompt}</c> slot, whose length is the option <c>PrefixLength</c>.</summary>
    public static bool UsesPrefixLength(string text) => SlotPattern().Matches(text).Any(m => m.Groups[1].Value == "prompt" && !m.Groups[2].Success);

    /// <summary>Parses <paramref name="text"/> and tokenizes its text once.</summary>
    /// <param name="text">The template.</param>
    /// <param name="tokenizer">The base model's tokenizer.</param>
    /// <param name="defaultPromptLength">The length of a <c>{prompt}</c> slot without N (the option <c>PrefixLength</c>).</param>
    /// <exception cref="ArgumentException">A slot is unknown or malformed, <c>{mask}</c> is not there exactly once, <c>{Sentence1}</c>
    /// is missing or a sentence slot repeats (the message names the option <c>PromptTemplate</c>).</exception>
    public static PromptTemplate Create(string? text, EncoderTokenizer tokenizer, int defaultPromptLength)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (string.IsNullOrWhiteSpace(text))
            throw Error("is required for the masked-language-model methods: text with {Sentence1}, {mask} and optionally {Sentence2} and {prompt:N} slots");

        var slots = new List<(string Kind, string Literal, int Count)>();
        int masks = 0, sentence1 = 0, sentence2 = 0, position = 0;
        foreach (Match match in SlotPattern().Matches(text))
        {
            if (match.Index > position)
                slots.Add(("text", text[position..match.Index], 0));
            position = match.Index + match.Length;
            string name = match.Groups[1].Value;
            if (match.Groups[2].Success && name != "prompt")
                throw Error($"has the slot '{match.Value}': only {{prompt:N}} takes a number");
            switch (name)
            {
                case "mask":
                    masks++;
                    slots.Add(("mask", tokenizer.MaskToken, 0));   // tokenized with the text around it (lstrip)
                    break;
                case "Sentence1":
                    sentence1++;
                    slots.Add(("s1", "", 0));
                    break;
                case "Sentence2":
                    sentence2++;
                    slots.Add(("s2", "", 0));
                    break;
                case "prompt":
                    int count = defaultPromptLength;
                    if (match.Groups[2].Success && !int.TryParse(match.Groups[2].Value, NumberStyles.None, CultureInfo.InvariantCulture, out count))
                        throw Error($"has the slot '{match.Value}': N in {{prompt:N}} must be a positive whole number");
                    if (count < 1)
                    {
                        throw match.Groups[2].Success
                            ? Error($"has the slot '{match.Value}': N in {{prompt:N}} must be at least 1")
                            : new ArgumentException($"PrefixLength {count} is the length of the {{prompt}} slot of PromptTemplate; it must be at least 1.", "PrefixLength");
                    }
                    slots.Add(("prompt", "", count));
                    break;
                default:
                    throw Error($"has the unknown slot '{{{name}}}'; the slots are {{Sentence1}}, {{Sentence2}}, {{mask}}, {{prompt:N}} and {{prompt}} (names are case-sensitive)");
            }
        }
        if (position < text.Length)
            slots.Add(("text", text[position..], 0));
        int stray = text.IndexOfAny(['{', '}'], 0);
        foreach (Match match in SlotPattern().Matches(text))
        {
            // Braces outside the slots are a typo of one ("{mask" or "{ Sentence1 }"), not text to read.
            if (stray >= match.Index && stray < match.Index + match.Length)
                stray = text.IndexOfAny(['{', '}'], match.Index + match.Length);
        }
        if (stray >= 0)
            throw Error($"has a brace at character {stray} that is not part of a slot; the slots are {{Sentence1}}, {{Sentence2}}, {{mask}}, {{prompt:N}} and {{prompt}}");
        if (masks != 1)
            throw Error(masks == 0 ? "has no {mask} slot: the class is read from the masked-language model's prediction at the mask" : $"has {masks} {{mask}} slots; exactly one is read");
        if (sentence1 != 1)
            throw Error(sentence1 == 0 ? "has no {Sentence1} slot: the input text would not reach the model" : "has {Sentence1} more than once");
        if (sentence2 > 1)
            throw Error("has {Sentence2} more than once");

        // Runs of text (mask included) tokenized once; white space before a sentence moves onto the sentence.
        var pieces = new List<Piece>();
        var resolved = new StringBuilder();
        var run = new StringBuilder();
        int promptLength = 0;
        for (int i = 0; i <= slots.Count; i++)
        {
            var slot = i < slots.Count ? slots[i] : (Kind: "end", Literal: "", Count: 0);
            if (slot.Kind is "text" or "mask")
            {
                run.Append(slot.Literal);
                resolved.Append(slot.Kind == "mask" ? "{mask}" : slot.Literal);
                continue;
            }
            bool sentence = slot.Kind is "s1" or "s2";
            string runText = run.ToString();
            bool spaceBefore = sentence && runText.Length > 0 && char.IsWhiteSpace(runText[^1]);
            if (spaceBefore)
                runText = runText.TrimEnd();
            if (runText.Length > 0)
            {
                var ids = new List<int>();
                tokenizer.Tokenize(runText, ids);
                if (ids.Count > 0)
                    pieces.Add(new Piece(ids.ToArray(), 0, 0, false));
            }
            run.Clear();
            switch (slot.Kind)
            {
                case "s1":
                    pieces.Add(new Piece(null, 1, 0, spaceBefore));
                    resolved.Append("{Sentence1}");
                    break;
                case "s2":
                    pieces.Add(new Piece(null, 2, 0, spaceBefore));
                    resolved.Append("{Sentence2}");
                    break;
                case "prompt":
                    pieces.Add(new Piece(null, 0, slot.Count, false));
                    resolved.Append(CultureInfo.InvariantCulture, $"{{prompt:{slot.Count}}}");
                    promptLength += slot.Count;
                    break;
            }
        }
        int maskIds = pieces.Sum(p => p.Tokens?.Count(id => id == tokenizer.MaskTokenId) ?? 0);
        if (maskIds != 1)
            throw Error($"renders {maskIds} mask tokens; write the mask only as {{mask}}, once (the text holds '{tokenizer.MaskToken}')");
        return new PromptTemplate(tokenizer, resolved.ToString(), pieces.ToArray(), sentence2 == 1, promptLength);
    }

    /// <summary>
    /// Renders one input within <paramref name="maxTokens"/> tokens (special tokens and prompt vectors included); the
    /// sentences are truncated longest-first, never the template. A missing sentence reads as empty.
    /// </summary>
    /// <exception cref="ArgumentException">The template alone leaves no token for the sentences (names the option).</exception>
    public EncodedText Encode(string? sentence1, string? sentence2, int maxTokens)
    {
        int room = maxTokens - _fixedTokens;
        if (room < 1)
        {
            throw new ArgumentException(
                $"PromptTemplate takes {_fixedTokens} tokens (its text, {PromptLength} prompt vectors and the start and end tokens), " +
                $"leaving none of the {maxTokens}-token budget for the sentences: shorten the template or raise MaxSequenceLength.", OptionName);
        }
        int[] first = Sentence(sentence1, _pieces.First(p => p.Sentence == 1).SpaceBefore);
        int[] second = HasSentence2 ? Sentence(sentence2, _pieces.First(p => p.Sentence == 2).SpaceBefore) : [];
        var (firstLength, secondLength) = EncoderTokenizer.TruncateLongestFirst(first.Length, second.Length, room);

        var ids = new List<int>(_fixedTokens + firstLength + secondLength) { _tokenizer.ClsTokenId };
        int prompt = 0;
        int firstTemplateSep = -1;
        foreach (Piece piece in _pieces)
        {
            if (piece.Tokens is int[] tokens)
            {
                int sep = Array.IndexOf(tokens, _tokenizer.SepTokenId);
                if (firstTemplateSep < 0 && sep >= 0)
                    firstTemplateSep = ids.Count + sep;
                ids.AddRange(tokens);
            }
            else if (piece.Sentence == 1)
            {
                ids.AddRange(first.AsSpan(0, firstLength));
            }
            else if (piece.Sentence == 2)
            {
                ids.AddRange(second.AsSpan(0, secondLength));
            }
            else
            {
                for (int k = 0; k < piece.PromptCount; k++)
                    ids.Add(PromptSlotId(prompt++));
            }
        }
        ids.Add(_tokenizer.SepTokenId);
        var types = new int[ids.Count];
        if (firstTemplateSep >= 0)
            types.AsSpan(firstTemplateSep + 1).Fill(_tokenizer.SecondSegmentTokenType);
        return new EncodedText(ids.ToArray(), types);
    }

    // A sentence's ids; a mask token in it is read as the unknown token (the template's mask stays the only one).
    private int[] Sentence(string? text, bool spaceBefore)
    {
        if (string.IsNullOrEmpty(text))
            return [];
        var ids = new List<int>();
        _tokenizer.Tokenize(spaceBefore ? " " + text : text, ids);
        for (int i = 0; i < ids.Count; i++)
        {
            if (ids[i] == _tokenizer.MaskTokenId)
                ids[i] = _tokenizer.UnknownTokenId;
        }
        return ids.ToArray();
    }

    private static ArgumentException Error(string what) => new($"{OptionName} {what}.", OptionName);

    // A run of the template: its tokens (text and mask), or a sentence slot (1 or 2), or PromptCount prompt vectors.
    private sealed record Piece(int[]? Tokens, int Sentence, int PromptCount, bool SpaceBefore);

    [GeneratedRegex(@"\{(Sentence1|Sentence2|mask|prompt|[A-Za-z_][A-Za-z0-9_]*)(?::([^{}]*))?\}")]
    private static partial Regex SlotPattern();
}
