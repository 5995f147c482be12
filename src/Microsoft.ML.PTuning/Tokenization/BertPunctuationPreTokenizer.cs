using System.Globalization;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// BERT's pre-tokenization as Hugging Face applies it (its <c>BertPreTokenizer</c>): split on white space, and make every
/// punctuation character a piece of its own, where punctuation is any ASCII punctuation or symbol character
/// (<c>!"#$%&amp;'()*+,-./:;&lt;=&gt;?@[\]^_`{|}~</c>) or any Unicode character of a punctuation category.
/// </summary>
/// <remarks>
/// Microsoft.ML.Tokenizers' BERT pre-tokenizer (<c>\w+|[\p{P}]</c>) drops symbols such as <c>$</c>, <c>+</c>, <c>=</c> and
/// emoji altogether and keeps <c>_</c> inside words, which changes the ids Hugging Face gives.
/// </remarks>
internal sealed class BertPunctuationPreTokenizer : PreTokenizer
{
    public static BertPunctuationPreTokenizer Instance { get; } = new();

    private BertPunctuationPreTokenizer()
    {
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => PreTokenize(text.AsSpan());

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text)
    {
        var pieces = new List<(int Offset, int Length)>();
        int wordStart = -1;
        int i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text[i..], out Rune rune, out int consumed);
            if (Rune.IsWhiteSpace(rune) || IsPunctuation(rune))
            {
                if (wordStart >= 0)
                {
                    pieces.Add((wordStart, i - wordStart));
                    wordStart = -1;
                }
                if (!Rune.IsWhiteSpace(rune))
                {
                    pieces.Add((i, consumed));
                }
            }
            else if (wordStart < 0)
            {
                wordStart = i;
            }
            i += consumed;
        }
        if (wordStart >= 0)
        {
            pieces.Add((wordStart, text.Length - wordStart));
        }
        return pieces;
    }

    private static bool IsPunctuation(Rune rune)
    {
        if (rune.IsAscii)
        {
            return char.IsAsciiLetterOrDigit((char)rune.Value) is false && rune.Value is > 32 and < 127;
        }
        return Rune.GetUnicodeCategory(rune) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;
    }
}
