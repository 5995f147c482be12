using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// BERT-family tokenization: Hugging Face's BERT normalization and punctuation splitting, then WordPiece from
/// <c>vocab.txt</c> through Microsoft.ML.Tokenizers' <see cref="BertTokenizer"/>.
/// </summary>
internal sealed class WordPieceEncoderTokenizer : EncoderTokenizer
{
    internal const string VocabFileName = "vocab.txt";

    private readonly BertTokenizer _wordPiece;

    private WordPieceEncoderTokenizer(BertTokenizer wordPiece, bool lowerCase, bool stripAccents, bool tokenizeChineseChars)
        : base(BertModelType, wordPiece.ClassificationTokenId, wordPiece.SeparatorTokenId, wordPiece.PaddingTokenId,
            wordPiece.UnknownTokenId, wordPiece.MaskingToken, wordPiece.MaskingTokenId, pairOverhead: 3, secondSegmentTokenType: 1,
            [
                new(wordPiece.ClassificationToken, wordPiece.ClassificationTokenId, false),
                new(wordPiece.SeparatorToken, wordPiece.SeparatorTokenId, false),
                new(wordPiece.PaddingToken, wordPiece.PaddingTokenId, false),
                new(wordPiece.MaskingToken, wordPiece.MaskingTokenId, false),
                new(wordPiece.UnknownToken, wordPiece.UnknownTokenId, false),
            ])
    {
        _wordPiece = wordPiece;
        LowerCase = lowerCase;
        StripAccents = stripAccents;
        TokenizeChineseChars = tokenizeChineseChars;
    }

    /// <summary>Whether text is lower-cased (<c>do_lower_case</c>, default true).</summary>
    public bool LowerCase { get; }

    /// <summary>Whether accents are stripped (<c>strip_accents</c>, default: as <see cref="LowerCase"/>).</summary>
    public bool StripAccents { get; }

    /// <summary>Whether CJK ideographs are split one by one (<c>tokenize_chinese_chars</c>, default true).</summary>
    public bool TokenizeChineseChars { get; }

    public static WordPieceEncoderTokenizer Load(string folder)
    {
        string vocabPath = Path.Combine(folder, VocabFileName);
        if (!File.Exists(vocabPath))
        {
            throw new FileNotFoundException(
                $"The BERT tokenizer needs a WordPiece vocabulary '{VocabFileName}' (one token a line) in '{folder}'.", vocabPath);
        }
        TokenizerFolderConfig config = TokenizerFolderConfig.Load(folder);
        bool lowerCase = config.DoLowerCase ?? true;
        bool stripAccents = config.StripAccents ?? lowerCase; // Hugging Face: unset strip_accents follows do_lower_case
        bool chinese = config.TokenizeChineseChars ?? true;
        var options = new BertOptions
        {
            Normalizer = new BertTextNormalizer(lowerCase, stripAccents, chinese),
            PreTokenizer = BertPunctuationPreTokenizer.Instance,
            LowerCaseBeforeTokenization = lowerCase,
            RemoveNonSpacingMarks = stripAccents,
            IndividuallyTokenizeCjk = chinese,
            SplitOnSpecialTokens = false, // EncoderTokenizer finds special tokens in the raw text itself
            UnknownToken = config.Token("unk_token", "[UNK]"),
            ClassificationToken = config.Token("cls_token", "[CLS]"),
            SeparatorToken = config.Token("sep_token", "[SEP]"),
            PaddingToken = config.Token("pad_token", "[PAD]"),
            MaskingToken = config.Token("mask_token", "[MASK]"),
        };
        BertTokenizer wordPiece;
        try
        {
            using FileStream stream = File.OpenRead(vocabPath);
            wordPiece = BertTokenizer.Create(stream, options);
        }
        catch (KeyNotFoundException ex)
        {
            throw new InvalidDataException(
                $"'{vocabPath}' lacks one of the special tokens {options.ClassificationToken}, {options.SeparatorToken}, " +
                $"{options.PaddingToken}, {options.MaskingToken} (from {TokenizerFolderConfig.ConfigFileName} / " +
                $"{TokenizerFolderConfig.SpecialTokensMapFileName}, or the defaults).", ex);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"'{vocabPath}' is not a usable WordPiece vocabulary: {ex.Message}", ex);
        }
        return new WordPieceEncoderTokenizer(wordPiece, lowerCase, stripAccents, chinese);
    }

    private protected override void EncodePlainText(string text, List<int> ids) =>
        ids.AddRange(_wordPiece.EncodeToIds(text, addSpecialTokens: false));
}
