using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// BERT's text normalization as Hugging Face applies it (its <c>BertNormalizer</c>), in the same order: drop NUL,
/// U+FFFD and control/format/unassigned characters (keeping tab, line feed and carriage return, which become spaces with
/// all other white space); put spaces around CJK ideographs; strip accents (NFD, then drop non-spacing marks); lower-case.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' own BERT normalizer differs from Hugging Face's on inputs that matter here: it deletes tabs and
/// line breaks instead of turning them into spaces (gluing words together), keeps zero-width format characters, and
/// recomposes the text after stripping accents. This one keeps Hugging Face's ids.
/// </remarks>
internal sealed class BertTextNormalizer : Normalizer
{
    private readonly bool _lowerCase;
    private readonly bool _stripAccents;
    private readonly bool _tokenizeChineseChars;

    public BertTextNormalizer(bool lowerCase, bool stripAccents, bool tokenizeChineseChars)
    {
        _lowerCase = lowerCase;
        _stripAccents = stripAccents;
        _tokenizeChineseChars = tokenizeChineseChars;
    }

    public override string Normalize(string original) => Normalize(original.AsSpan());

    public override string Normalize(ReadOnlySpan<char> original)
    {
        if (original.IsEmpty)
        {
            return string.Empty;
        }
        var builder = new StringBuilder(original.Length + 8);
        ReadOnlySpan<char> rest = original;
        while (!rest.IsEmpty)
        {
            // A lone surrogate decodes as invalid: it is a control-like code unit (category Cs) and is dropped, as in Hugging Face.
            bool valid = Rune.DecodeFromUtf16(rest, out Rune rune, out int consumed) == System.Buffers.OperationStatus.Done;
            rest = rest[consumed..];
            if (!valid || rune.Value == 0 || rune.Value == 0xFFFD || IsControl(rune))
            {
                continue;
            }
            if (Rune.IsWhiteSpace(rune))
            {
                builder.Append(' ');
            }
            else if (_tokenizeChineseChars && IsCjkIdeograph(rune.Value))
            {
                builder.Append(' ').Append(rune.ToString()).Append(' ');
            }
            else
            {
                builder.Append(rune.ToString());
            }
        }
        string text = builder.ToString();
        if (_stripAccents)
        {
            text = RemoveNonSpacingMarks(text.Normalize(NormalizationForm.FormD));
        }
        return _lowerCase ? text.ToLowerInvariant() : text;
    }

    private static bool IsControl(Rune rune)
    {
        if (rune.Value is '\t' or '\n' or '\r')
        {
            return false;
        }
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
            or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned;
    }

    private static string RemoveNonSpacingMarks(string decomposed)
    {
        var builder = new StringBuilder(decomposed.Length);
        foreach (char c in decomposed)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) != UnicodeCategory.NonSpacingMark)
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }

    // The "CJK Unified Ideographs" blocks, as BERT defines Chinese characters (Hangul, Hiragana and Katakana are not in them).
    private static bool IsCjkIdeograph(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF
            or >= 0x3400 and <= 0x4DBF
            or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F
            or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF
            or >= 0x2F800 and <= 0x2FA1F;
}
