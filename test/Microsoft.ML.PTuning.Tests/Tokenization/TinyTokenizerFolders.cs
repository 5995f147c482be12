using System.Text;
using System.Text.Json;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>Hand-written tokenizer folders, small enough that every expected id can be worked out by hand.</summary>
internal static class TinyTokenizerFolders
{
    /// <summary>The WordPiece vocabulary; a token's id is its index here.</summary>
    public static readonly string[] BertVocab =
    [
        "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", // 0-4
        "hello", "world", "un", "##aff", "##able",      // 5-9
        ",", "!", "the", "cafe", "##s",                   // 10-14
        "$", "5", "Hello", "_", "a",                      // 15-19
        "b", "中", "文", "caf", "##é",                    // 20-24
    ];

    public static int Bert(string token) => Array.IndexOf(BertVocab, token) is int i and >= 0
        ? i
        : throw new ArgumentException($"'{token}' is not in the tiny vocabulary");

    /// <summary>A BERT folder; <paramref name="config"/> is written as tokenizer_config.json when given.</summary>
    public static string BertFolder(string? config = null, string lineEnd = "\n")
    {
        string folder = TestPaths.NewTempFolder("tok-bert");
        File.WriteAllText(Path.Combine(folder, "vocab.txt"), string.Join(lineEnd, BertVocab) + lineEnd, new UTF8Encoding(false));
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config);
        }
        return folder;
    }

    // Byte-level BPE: ids 0-3 special, 4 + b for byte b (as GPT-2 maps it to a printable char), then one id per merge, then <mask>.
    public const int ByteBase = 4;

    /// <summary>The merges, in rank order; "r d" comes first so that " word" shows rank beats position.</summary>
    public static readonly string[] RobertaMerges =
    [
        "r d", "Ġ w", "o r", "l d", "Ġw or", "Ġwor ld",
        "Ġ H", "ĠH e", "H e", "l l", "He ll", "Hell o", "ĠHe ll", "ĠHell o",
    ];

    public static readonly Dictionary<string, int> RobertaVocab = BuildRobertaVocab();

    public static int Roberta(string token) => RobertaVocab[token];

    /// <summary>The id of the single-byte token for <paramref name="b"/>.</summary>
    public static int ByteId(byte b) => ByteBase + b;

    public static string RobertaFolder(string? config = null)
    {
        string folder = TestPaths.NewTempFolder("tok-roberta");
        File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(RobertaVocab), new UTF8Encoding(false));
        File.WriteAllText(Path.Combine(folder, "merges.txt"), "#version: 0.2\n" + string.Join("\n", RobertaMerges) + "\n", new UTF8Encoding(false));
        if (config is not null)
        {
            File.WriteAllText(Path.Combine(folder, "tokenizer_config.json"), config);
        }
        return folder;
    }

    /// <summary>GPT-2's reversible byte → char map: printable Latin-1 bytes stand for themselves, the rest for 256 + n.</summary>
    public static char ByteChar(int b)
    {
        static bool Printable(int x) => x is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        if (Printable(b))
        {
            return (char)b;
        }
        int n = 0;
        for (int x = 0; x < b; x++)
        {
            if (!Printable(x))
            {
                n++;
            }
        }
        return (char)(256 + n);
    }

    private static Dictionary<string, int> BuildRobertaVocab()
    {
        var vocab = new Dictionary<string, int> { ["<s>"] = 0, ["<pad>"] = 1, ["</s>"] = 2, ["<unk>"] = 3 };
        for (int b = 0; b < 256; b++)
        {
            vocab[ByteChar(b).ToString()] = ByteBase + b;
        }
        foreach (string merge in RobertaMerges)
        {
            vocab[merge.Replace(" ", "")] = vocab.Count;
        }
        vocab["<mask>"] = vocab.Count;
        return vocab;
    }
}
