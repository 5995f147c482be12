using System.Collections.Concurrent;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// Turns text into the inputs of a BERT- or RoBERTa-family encoder, with the ids the Hugging Face tokenizer of the same
/// folder gives: special tokens in place, token types, truncation, and for token classification the alignment of each
/// word to its first sub-token.
/// </summary>
/// <remarks>
/// <para>
/// <b>Layouts.</b> BERT: <c>[CLS] A [SEP]</c> and <c>[CLS] A [SEP] B [SEP]</c>, token type 0 up to and including the first
/// <c>[SEP]</c>, 1 after it. RoBERTa: <c>&lt;s&gt; A &lt;/s&gt;</c> and <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>,
/// token type always 0. Special tokens written literally in the text (<c>[MASK]</c>, <c>&lt;mask&gt;</c>, ...) become
/// their ids, as in Hugging Face.
/// </para>
/// <para>
/// <b>How long an input may be.</b> Every method takes <c>maxTokens</c>, the most tokens the result may hold, special
/// tokens included. The budget is the model's, not the tokenizer's: with a prefix the real tokens' positions start after
/// it, so callers pass what <see cref="Modeling.EncoderConfig.MaxTokens"/> gives for their prefix length.
/// </para>
/// <para>
/// Instances are immutable and safe to use from several threads at once; <see cref="FromFolder"/> loads each folder once.
/// </para>
/// </remarks>
public abstract class EncoderTokenizer
{
    /// <summary>The <c>model_type</c> of BERT-family folders (WordPiece, <c>vocab.txt</c>).</summary>
    public const string BertModelType = "bert";

    /// <summary>The <c>model_type</c> of RoBERTa-family folders (byte-level BPE, <c>vocab.json</c> + <c>merges.txt</c>).</summary>
    public const string RobertaModelType = "roberta";

    private static readonly ConcurrentDictionary<string, Lazy<EncoderTokenizer>> Loaded = new(StringComparer.Ordinal);

    [ThreadStatic]
    private static List<int>? t_first;

    [ThreadStatic]
    private static List<int>? t_second;

    private readonly SpecialToken[] _inTextSpecials;
    private readonly char[] _inTextSpecialStarts;
    private readonly int _pairOverhead;
    private readonly int _secondSegmentTokenType;

    private protected EncoderTokenizer(
        string modelType, int clsTokenId, int sepTokenId, int padTokenId, int unknownTokenId, string maskToken, int maskTokenId,
        int pairOverhead, int secondSegmentTokenType, IEnumerable<SpecialToken> inTextSpecials)
    {
        ModelType = modelType;
        MaskToken = maskToken;
        MaskTokenId = maskTokenId;
        ClsTokenId = clsTokenId;
        SepTokenId = sepTokenId;
        PadTokenId = padTokenId;
        UnknownTokenId = unknownTokenId;
        _pairOverhead = pairOverhead;
        _secondSegmentTokenType = secondSegmentTokenType;
        // Longest first, so that a special token that starts another one never hides it.
        _inTextSpecials = inTextSpecials.Where(s => s.Text.Length > 0).DistinctBy(s => s.Text)
            .OrderByDescending(s => s.Text.Length).ToArray();
        _inTextSpecialStarts = _inTextSpecials.Select(s => s.Text[0]).Distinct().ToArray();
    }

    /// <summary><see cref="BertModelType"/> or <see cref="RobertaModelType"/>.</summary>
    public string ModelType { get; }

    /// <summary>The id that pads a batch (<c>[PAD]</c> or <c>&lt;pad&gt;</c>).</summary>
    public int PadTokenId { get; }

    /// <summary>The id that starts every input (<c>[CLS]</c> or <c>&lt;s&gt;</c>).</summary>
    public int ClsTokenId { get; }

    /// <summary>The id that ends every segment (<c>[SEP]</c> or <c>&lt;/s&gt;</c>).</summary>
    public int SepTokenId { get; }

    /// <summary>The id of the unknown token (<c>[UNK]</c> or <c>&lt;unk&gt;</c>).</summary>
    public int UnknownTokenId { get; }

    /// <summary>The mask token as written in text (<c>[MASK]</c> or <c>&lt;mask&gt;</c>, or the folder's own).</summary>
    public string MaskToken { get; }

    /// <summary>The id of <see cref="MaskToken"/>: where a masked language model predicts a word.</summary>
    public int MaskTokenId { get; }

    /// <summary>The token type of a pair's second segment: 1 for BERT, 0 for RoBERTa (which has one token type).</summary>
    internal int SecondSegmentTokenType => _secondSegmentTokenType;

    /// <summary>
    /// Loads the tokenizer of a Hugging Face folder: <c>vocab.txt</c> for <paramref name="modelType"/> <c>"bert"</c>,
    /// <c>vocab.json</c> + <c>merges.txt</c> for <c>"roberta"</c>; <c>tokenizer_config.json</c> and
    /// <c>special_tokens_map.json</c> are honoured when present. A folder is read once; later calls return the same instance
    /// until its tokenizer files change.
    /// </summary>
    /// <param name="folder">The model folder.</param>
    /// <param name="modelType">The <c>model_type</c> of the folder's <c>config.json</c>: <c>"bert"</c> or <c>"roberta"</c>.</param>
    /// <exception cref="ArgumentException">The model type is not one this library supports.</exception>
    /// <exception cref="DirectoryNotFoundException">The folder does not exist.</exception>
    /// <exception cref="FileNotFoundException">A tokenizer file the model type needs is missing.</exception>
    /// <exception cref="InvalidDataException">A tokenizer file cannot be read or lacks a special token.</exception>
    public static EncoderTokenizer FromFolder(string folder, string modelType)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        string type = NormalizeModelType(modelType);
        string fullPath = Path.GetFullPath(folder);
        if (!Directory.Exists(fullPath))
        {
            throw new DirectoryNotFoundException($"The tokenizer folder '{fullPath}' does not exist.");
        }
        string key = string.Join('|', FileNames(type)
            .Select(f => File.GetLastWriteTimeUtc(Path.Combine(fullPath, f)).Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Prepend(type).Prepend(fullPath));
        Lazy<EncoderTokenizer> lazy = Loaded.GetOrAdd(key, _ => new Lazy<EncoderTokenizer>(() => type == BertModelType
            ? WordPieceEncoderTokenizer.Load(fullPath)
            : ByteLevelBpeEncoderTokenizer.Load(fullPath)));
        try
        {
            return lazy.Value;
        }
        catch
        {
            Loaded.TryRemove(new KeyValuePair<string, Lazy<EncoderTokenizer>>(key, lazy)); // a fixed folder may be retried
            throw;
        }
    }

    /// <summary>
    /// Every file the tokenizer of <paramref name="modelType"/> reads from a folder: its vocabulary file(s), which must
    /// exist, then <c>tokenizer_config.json</c> and <c>special_tokens_map.json</c>, read when present.
    /// </summary>
    internal static IReadOnlyList<string> FileNames(string modelType) => NormalizeModelType(modelType) == BertModelType
        ? [WordPieceEncoderTokenizer.VocabFileName, TokenizerFolderConfig.ConfigFileName, TokenizerFolderConfig.SpecialTokensMapFileName]
        : [ByteLevelBpeEncoderTokenizer.VocabFileName, ByteLevelBpeEncoderTokenizer.MergesFileName,
            TokenizerFolderConfig.ConfigFileName, TokenizerFolderConfig.SpecialTokensMapFileName];

    /// <summary>How many special tokens an input holds: BERT 2 (single) / 3 (pair), RoBERTa 2 / 4.</summary>
    public int SpecialTokenCount(bool pair) => pair ? _pairOverhead : 2;

    /// <summary>
    /// Encodes one text, or a pair of texts, with the special tokens, truncated to at most <paramref name="maxTokens"/> tokens.
    /// </summary>
    /// <remarks>
    /// Truncation is Hugging Face's <c>longest_first</c>: while the input is too long, one token is removed from the end of
    /// the longer segment (from the second when both are as long). Null or empty text gives the special tokens alone; an
    /// empty <paramref name="pair"/> still gives the pair layout, a null one the single layout.
    /// </remarks>
    /// <param name="text">The first (or only) segment.</param>
    /// <param name="pair">The second segment, or null for none.</param>
    /// <param name="maxTokens">The most tokens the result may hold, special tokens included (see the class remarks).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxTokens"/> leaves no room for a single text token.</exception>
    public EncodedText Encode(string? text, string? pair, int maxTokens)
    {
        bool isPair = pair is not null;
        int overhead = SpecialTokenCount(isPair);
        CheckMaxTokens(maxTokens, overhead);

        List<int> first = Scratch(ref t_first);
        List<int> second = Scratch(ref t_second);
        Tokenize(text, first);
        if (isPair)
        {
            Tokenize(pair, second);
        }
        (int firstLength, int secondLength) = TruncateLongestFirst(first.Count, second.Count, maxTokens - overhead);

        int total = firstLength + secondLength + overhead;
        var ids = new int[total];
        var types = new int[total];
        int k = 0;
        ids[k++] = ClsTokenId;
        first.CopyTo(0, ids, k, firstLength);
        k += firstLength;
        ids[k++] = SepTokenId;
        if (isPair)
        {
            for (int extra = 3; extra < overhead; extra++)
            {
                ids[k++] = SepTokenId; // RoBERTa's doubled separator
            }
            int secondStart = k;
            second.CopyTo(0, ids, k, secondLength);
            k += secondLength;
            ids[k++] = SepTokenId;
            types.AsSpan(secondStart).Fill(_secondSegmentTokenType);
        }
        return new EncodedText(ids, types);
    }

    /// <summary>
    /// Encodes words that were already split on white space, from the first word on, as many whole words as fit in
    /// <paramref name="maxTokens"/>; see <see cref="EncodeWords(IReadOnlyList{string}, int, int)"/>.
    /// </summary>
    public EncodedWords EncodeWords(IReadOnlyList<string> words, int maxTokens) => EncodeWords(words, 0, maxTokens);

    /// <summary>
    /// Encodes words that were already split on white space, starting at word <paramref name="start"/>, taking as many
    /// whole words as fit in <paramref name="maxTokens"/> tokens (special tokens included).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Each word is tokenized on its own, as Hugging Face does for <c>is_split_into_words=True</c>; for RoBERTa every word
    /// is preceded by a space (<c>add_prefix_space=True</c>), so every word, the first included, starts with a "Ġ" token.
    /// <see cref="EncodedWords.WordIndex"/> marks each word's first sub-token with the word's index in
    /// <paramref name="words"/>. A word that gives no sub-token (only control or zero-width characters, say) is given the
    /// unknown token, so that every word keeps exactly one first sub-token.
    /// </para>
    /// <para>
    /// The words that do not fit are left out: <see cref="EncodedWords.WordCount"/> says how many were taken, and the
    /// next call starts where this one stopped (or earlier, for overlapping windows; see <see cref="EncodeWordWindows"/>).
    /// At least one word is always taken while any remain: a single word longer than the room is cut to the room, its
    /// first sub-token kept. So a caller covers every word of a sentence of any length.
    /// </para>
    /// </remarks>
    /// <param name="words">The words; none may be null.</param>
    /// <param name="start">The first word to encode, 0 ≤ start ≤ words.Count (at words.Count the result has no word).</param>
    /// <param name="maxTokens">The most tokens the result may hold, special tokens included (at least 3).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="start"/> or <paramref name="maxTokens"/> is out of range.</exception>
    /// <exception cref="ArgumentException">A word is null.</exception>
    public EncodedWords EncodeWords(IReadOnlyList<string> words, int start, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentOutOfRangeException.ThrowIfNegative(start);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(start, words.Count);
        CheckMaxTokens(maxTokens, SpecialTokenCount(pair: false));
        List<int> scratch = Scratch(ref t_first);
        return BuildWordWindow(words.Count, start, maxTokens, index =>
        {
            scratch.Clear();
            TokenizeWord(words, index, scratch);
            return scratch;
        });
    }

    /// <summary>
    /// Encodes words that were already split into consecutive windows of at most <paramref name="maxTokens"/> tokens that
    /// together hold every word, each window after the first repeating up to <paramref name="overlapWords"/> words of the
    /// one before it as left context. Every word is tokenized once.
    /// </summary>
    /// <remarks>
    /// A window starts at word <c>previous.FirstWord + max(1, previous.WordCount − overlapWords)</c>, so windows always move
    /// forward. Words in an overlap appear in two windows; the caller chooses which prediction to keep (for example the one
    /// from the window where the word has more context). No words give no window.
    /// </remarks>
    /// <param name="words">The words; none may be null.</param>
    /// <param name="maxTokens">The most tokens a window may hold, special tokens included (at least 3).</param>
    /// <param name="overlapWords">How many words of a window the next one repeats at most (0 for none).</param>
    public IReadOnlyList<EncodedWords> EncodeWordWindows(IReadOnlyList<string> words, int maxTokens, int overlapWords)
    {
        ArgumentNullException.ThrowIfNull(words);
        ArgumentOutOfRangeException.ThrowIfNegative(overlapWords);
        CheckMaxTokens(maxTokens, SpecialTokenCount(pair: false));
        var perWord = new int[words.Count][];
        var scratch = new List<int>();
        for (int i = 0; i < perWord.Length; i++)
        {
            scratch.Clear();
            TokenizeWord(words, i, scratch);
            perWord[i] = scratch.ToArray();
        }
        var windows = new List<EncodedWords>();
        int start = 0;
        while (start < perWord.Length)
        {
            EncodedWords window = BuildWordWindow(perWord.Length, start, maxTokens, index => perWord[index]);
            windows.Add(window);
            int taken = window.WordCount;
            if (start + taken >= perWord.Length)
            {
                break;
            }
            start += Math.Max(1, taken - overlapWords);
        }
        return windows;
    }

    /// <summary>Appends the ids of plain text (no special token in it) to <paramref name="ids"/>.</summary>
    private protected abstract void EncodePlainText(string text, List<int> ids);

    /// <summary>The text a single word is encoded as (RoBERTa puts a space before it).</summary>
    private protected virtual string WordText(string word) => word;

    /// <summary>Appends the ids of a text to <paramref name="ids"/>, special tokens written in it becoming their ids.</summary>
    internal void Tokenize(string? text, List<int> ids)
    {
        if (string.IsNullOrEmpty(text))
        {
            return;
        }
        int segmentStart = 0;
        int position = 0;
        while (_inTextSpecialStarts.Length > 0 && position < text.Length)
        {
            int found = text.AsSpan(position).IndexOfAny(_inTextSpecialStarts);
            if (found < 0)
            {
                break;
            }
            found += position;
            SpecialToken? match = null;
            foreach (SpecialToken special in _inTextSpecials)
            {
                if (text.AsSpan(found).StartsWith(special.Text, StringComparison.Ordinal))
                {
                    match = special;
                    break;
                }
            }
            if (match is not SpecialToken token)
            {
                position = found + 1;
                continue;
            }
            int segmentEnd = found;
            if (token.LStrip)
            {
                while (segmentEnd > segmentStart && char.IsWhiteSpace(text[segmentEnd - 1]))
                {
                    segmentEnd--;
                }
            }
            if (segmentEnd > segmentStart)
            {
                EncodePlainText(text[segmentStart..segmentEnd], ids);
            }
            ids.Add(token.Id);
            segmentStart = position = found + token.Text.Length;
        }
        if (segmentStart < text.Length)
        {
            EncodePlainText(segmentStart == 0 ? text : text[segmentStart..], ids);
        }
    }

    /// <summary>
    /// The sub-tokens of one word as it is read after other text: tokenized on its own, RoBERTa's with a space before it
    /// (<c>" great"</c> → <c>Ġgreat</c>), as a label word stands after the text before a mask. Empty when the word gives none.
    /// </summary>
    internal int[] EncodeWord(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        var ids = new List<int>();
        Tokenize(WordText(word), ids);
        return ids.ToArray();
    }

    internal static string NormalizeModelType(string modelType)
    {
        ArgumentNullException.ThrowIfNull(modelType);
        if (string.Equals(modelType, BertModelType, StringComparison.OrdinalIgnoreCase))
        {
            return BertModelType;
        }
        if (string.Equals(modelType, RobertaModelType, StringComparison.OrdinalIgnoreCase))
        {
            return RobertaModelType;
        }
        throw new ArgumentException(
            $"Model type '{modelType}' is not supported: use \"{BertModelType}\" (WordPiece, vocab.txt) or " +
            $"\"{RobertaModelType}\" (byte-level BPE, vocab.json + merges.txt).", nameof(modelType));
    }

    private void TokenizeWord(IReadOnlyList<string> words, int index, List<int> ids)
    {
        string word = words[index] ?? throw new ArgumentException($"words[{index}] is null; every word must be a string.", nameof(words));
        int before = ids.Count;
        Tokenize(WordText(word), ids);
        if (ids.Count == before)
        {
            ids.Add(UnknownTokenId);
        }
    }

    private EncodedWords BuildWordWindow(int wordCount, int start, int maxTokens, Func<int, IReadOnlyList<int>> subTokens)
    {
        int room = maxTokens - SpecialTokenCount(pair: false);
        var ids = new List<int>(Math.Min(maxTokens, 64)) { ClsTokenId };
        var wordIndex = new List<int>(ids.Capacity) { -1 };
        for (int i = start; i < wordCount && room > 0; i++)
        {
            IReadOnlyList<int> pieces = subTokens(i);
            if (pieces.Count > room && i > start)
            {
                break; // the next window takes this word whole
            }
            int take = Math.Min(pieces.Count, room);
            for (int p = 0; p < take; p++)
            {
                ids.Add(pieces[p]);
                wordIndex.Add(p == 0 ? i : -1);
            }
            room -= take;
        }
        ids.Add(SepTokenId);
        wordIndex.Add(-1);
        return new EncodedWords(ids.ToArray(), new int[ids.Count], wordIndex.ToArray());
    }

    internal static (int First, int Second) TruncateLongestFirst(int first, int second, int room)
    {
        while (first + second > room)
        {
            if (first > second)
            {
                first--;
            }
            else
            {
                second--;
            }
        }
        return (first, second);
    }

    private static void CheckMaxTokens(int maxTokens, int overhead)
    {
        if (maxTokens < overhead + 1)
        {
            throw new ArgumentOutOfRangeException(nameof(maxTokens), maxTokens,
                $"maxTokens must leave room for the {overhead} special tokens and at least one text token (at least {overhead + 1}).");
        }
    }

    private static List<int> Scratch(ref List<int>? list)
    {
        list ??= new List<int>(128);
        list.Clear();
        return list;
    }

    /// <summary>A special token as it may be written inside a text, with Hugging Face's <c>lstrip</c>.</summary>
    private protected readonly record struct SpecialToken(string Text, int Id, bool LStrip);
}
