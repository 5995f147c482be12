namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// One model input made from words that were already split (token classification), with the alignment of each token
/// to the word it came from.
/// </summary>
/// <param name="InputIds">Token ids, special tokens included.</param>
/// <param name="TokenTypeIds">Per token: always 0 (a single segment).</param>
/// <param name="WordIndex">
/// Per token: the index of the word (in the list given to
/// <see cref="EncoderTokenizer.EncodeWords(IReadOnlyList{string}, int, int)"/>) at the word's FIRST sub-token, and -1 at
/// every other sub-token and at the special tokens. Each word in the input has exactly one entry here.
/// </param>
public sealed record EncodedWords(int[] InputIds, int[] TokenTypeIds, int[] WordIndex)
{
    /// <summary>The window's tokens without the word alignment, as a forward pass takes them.</summary>
    public EncodedText Text => new(InputIds, TokenTypeIds);

    /// <summary>The index of the first word in this input, or -1 when it holds no word.</summary>
    public int FirstWord
    {
        get
        {
            foreach (int w in WordIndex)
            {
                if (w >= 0)
                {
                    return w;
                }
            }
            return -1;
        }
    }

    /// <summary>How many words this input holds (they are consecutive, from <see cref="FirstWord"/> on).</summary>
    public int WordCount
    {
        get
        {
            int count = 0;
            foreach (int w in WordIndex)
            {
                if (w >= 0)
                {
                    count++;
                }
            }
            return count;
        }
    }
}
