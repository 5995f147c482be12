using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// RoBERTa-family tokenization: GPT-2's pre-tokenization regex, then byte-level BPE from <c>vocab.json</c> +
/// <c>merges.txt</c> through Microsoft.ML.Tokenizers' <see cref="BpeTokenizer"/> with <see cref="BpeOptions.ByteLevel"/>.
/// </summary>
/// <remarks>
/// <see cref="CodeGenTokenizer"/>'s public factory insists on GPT-2's <c>&lt;|endoftext|&gt;</c> being in the vocabulary
/// and <see cref="EnglishRobertaTokenizer"/> wants fairseq's <c>dict.txt</c>, so neither reads a Hugging Face RoBERTa folder;
/// a byte-level <see cref="BpeTokenizer"/> with GPT-2's split gives Hugging Face's ids. Texts are encoded without a prefix
/// space (Hugging Face's default, "Hello world" → <c>Hello Ġworld</c>); single words get one (<c>add_prefix_space=True</c>,
/// as Hugging Face requires for words that were already split).
/// </remarks>
internal sealed partial class ByteLevelBpeEncoderTokenizer : EncoderTokenizer
{
    internal const string VocabFileName = "vocab.json";
    internal const string MergesFileName = "merges.txt";

    private readonly BpeTokenizer _bpe;

    private ByteLevelBpeEncoderTokenizer(BpeTokenizer bpe, int cls, int sep, int pad, int unk, SpecialToken mask, IEnumerable<SpecialToken> specials)
        : base(RobertaModelType, cls, sep, pad, unk, mask.Text, mask.Id, pairOverhead: 4, secondSegmentTokenType: 0, specials)
    {
        _bpe = bpe;
    }

    public static ByteLevelBpeEncoderTokenizer Load(string folder)
    {
        string vocabPath = Path.Combine(folder, VocabFileName);
        string mergesPath = Path.Combine(folder, MergesFileName);
        foreach (string path in new[] { vocabPath, mergesPath })
        {
            if (!File.Exists(path))
            {
                throw new FileNotFoundException(
                    $"The RoBERTa tokenizer needs '{VocabFileName}' and '{MergesFileName}' (byte-level BPE) in '{folder}'; " +
                    $"'{Path.GetFileName(path)}' is missing.", path);
            }
        }
        Dictionary<string, int> vocab = ReadVocabulary(vocabPath);
        List<string> merges = ReadMerges(mergesPath);
        TokenizerFolderConfig config = TokenizerFolderConfig.Load(folder);

        int Id(string role, string token) => vocab.TryGetValue(token, out int id)
            ? id
            : throw new InvalidDataException($"'{vocabPath}' has no id for the {role} '{token}'.");
        string bos = config.Token("bos_token", "<s>");
        string eos = config.Token("eos_token", "</s>");
        string cls = config.Token("cls_token", bos);
        string sep = config.Token("sep_token", eos);
        string pad = config.Token("pad_token", "<pad>");
        string unk = config.Token("unk_token", "<unk>");
        string mask = config.Token("mask_token", "<mask>");
        var specials = new List<SpecialToken>
        {
            new(cls, Id("cls_token", cls), false),
            new(sep, Id("sep_token", sep), false),
            new(pad, Id("pad_token", pad), false),
            new(unk, Id("unk_token", unk), false),
            // RoBERTa's mask swallows the space before it, so "a <mask>" is "a" then <mask>.
            new(mask, Id("mask_token", mask), config.LStrip("mask_token", defaultValue: true)),
        };
        foreach ((string role, string token) in new[] { ("bos_token", bos), ("eos_token", eos) })
        {
            if (vocab.TryGetValue(token, out int id))
            {
                specials.Add(new(token, id, false));
            }
        }

        BpeTokenizer bpe;
        try
        {
            bpe = BpeTokenizer.Create(new BpeOptions(vocab)
            {
                Merges = merges,
                PreTokenizer = new RegexPreTokenizer(Gpt2Split(), specialTokens: null),
                ByteLevel = true,
                UnknownToken = unk,
            });
        }
        catch (InvalidOperationException ex)
        {
            throw new InvalidDataException($"'{mergesPath}' does not fit '{vocabPath}': {ex.Message}", ex);
        }
        return new ByteLevelBpeEncoderTokenizer(bpe, specials[0].Id, specials[1].Id, specials[2].Id, specials[3].Id, specials[4], specials);
    }

    private protected override void EncodePlainText(string text, List<int> ids) => ids.AddRange(_bpe.EncodeToIds(text));

    // Hugging Face's add_prefix_space: a word that does not start with white space gets one.
    private protected override string WordText(string word) =>
        word.Length == 0 || char.IsWhiteSpace(word[0]) ? word : " " + word;

    private static Dictionary<string, int> ReadVocabulary(string path)
    {
        try
        {
            using FileStream stream = File.OpenRead(path);
            return JsonSerializer.Deserialize<Dictionary<string, int>>(stream)
                ?? throw new InvalidDataException($"'{path}' holds null; expected an object of token → id.");
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not a JSON object of token → id: {ex.Message}", ex);
        }
    }

    private static List<string> ReadMerges(string path)
    {
        var merges = new List<string>();
        int lineNumber = 0;
        foreach (string line in File.ReadLines(path))
        {
            lineNumber++;
            if (line.Length == 0 || (lineNumber == 1 && line.StartsWith("#version", StringComparison.Ordinal)))
            {
                continue;
            }
            int space = line.IndexOf(' ');
            if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
            {
                throw new InvalidDataException($"'{path}' line {lineNumber}: expected two tokens separated by one space, found '{line}'.");
            }
            merges.Add(line);
        }
        return merges;
    }

    // GPT-2's pre-tokenization: contractions, letters, digits and other runs each with at most one leading space.
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Split();
}
