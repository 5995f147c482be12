namespace Microsoft.ML.PTuning.Evaluation;

/// <summary>
/// Finds the entities of a tag sequence with the rules of seqeval's default mode, which follows conlleval.
/// Works on plain strings so that code without an <see cref="IDataView"/> (the benchmark harness) can use it.
/// </summary>
/// <remarks>
/// <para>
/// A tag is <c>O</c> or a prefix <c>B-</c>, <c>I-</c>, <c>E-</c>, <c>S-</c> followed by the entity type (the type is
/// everything after the first two characters, so types may contain hyphens). IOB2/BIO data uses only B, I and O;
/// E (end) and S (single) are honoured as seqeval honours them, so IOBES tags give the same entities as there.
/// </para>
/// <para>
/// An entity starts at B-X or S-X; at I-X or E-X after O, E or S (the lenient conlleval start: an I- with no B-
/// before it still opens an entity); and at any tag whose type differs from the tag before it. It ends before a
/// B, S or O that follows B or I, after any E or S, and before any tag of a different type. So
/// <c>B-PER I-LOC</c> is two entities, PER (0,0) and LOC (1,1).
/// </para>
/// <para>
/// Tags without a prefix: a bare <c>B</c>, <c>I</c>, <c>E</c> or <c>S</c> has the empty type, which seqeval names
/// <c>_</c> (and so does this class). Any other tag without a prefix, such as <c>PER</c>, is read as <c>I-PER</c>,
/// so a run of <c>PER PER</c> is one PER entity. Here this class differs from seqeval, which warns that such a tag
/// "seems not to be NE tag" and then reads its first letter as the prefix and the rest as the type
/// (<c>PER</c> becomes type <c>ER</c>); reading it as an inside tag keeps the type name intact.
/// </para>
/// </remarks>
internal static class EntityChunker
{
    /// <summary>The type seqeval gives a bare B, I, E or S tag.</summary>
    internal const string UntypedEntity = "_";

    private const char Outside = 'O';

    /// <summary>Returns the entities of one sentence's tags, in order of their start.</summary>
    /// <param name="tags">One tag per token; null tags are not allowed.</param>
    internal static List<EntitySpan> GetEntities(IReadOnlyList<string> tags)
    {
        ArgumentNullException.ThrowIfNull(tags);
        var entities = new List<EntitySpan>();
        char previousPrefix = Outside;
        string previousType = "";
        int start = 0;

        // One step past the end with an O tag closes an entity that runs to the last token.
        for (int i = 0; i <= tags.Count; i++)
        {
            (char prefix, string type) = i < tags.Count ? Parse(tags[i], i) : (Outside, "");

            if (EndsBefore(previousPrefix, previousType, prefix, type))
            {
                entities.Add(new EntitySpan(previousType, start, i - 1));
            }

            if (StartsAt(previousPrefix, previousType, prefix, type))
            {
                start = i;
            }

            previousPrefix = prefix;
            previousType = type;
        }

        return entities;
    }

    /// <summary>Splits a tag into its prefix letter (O, B, I, E or S) and its entity type ("" for O).</summary>
    internal static (char Prefix, string Type) Parse(string tag, int position)
    {
        if (tag is null)
        {
            throw new ArgumentException($"The tag at position {position} is null; expected a tag such as 'O' or 'B-PER'.");
        }

        if (tag == "O")
        {
            return (Outside, "");
        }

        if (tag.Length == 1 && IsEntityPrefix(tag[0]))
        {
            return (tag[0], UntypedEntity);
        }

        if (tag.Length > 2 && tag[1] == '-' && IsEntityPrefix(tag[0]))
        {
            return (tag[0], tag[2..]);
        }

        return ('I', tag);
    }

    private static bool IsEntityPrefix(char c) => c is 'B' or 'I' or 'E' or 'S';

    // An entity that was open at the previous token ends there (before the current one).
    private static bool EndsBefore(char previousPrefix, string previousType, char prefix, string type)
    {
        if (previousPrefix == Outside)
        {
            return false;
        }

        if (previousPrefix is 'E' or 'S')
        {
            return true;
        }

        // previous is B or I
        return prefix is 'B' or 'S' or Outside || previousType != type;
    }

    // A new entity opens at the current token.
    private static bool StartsAt(char previousPrefix, string previousType, char prefix, string type)
    {
        if (prefix == Outside)
        {
            return false;
        }

        if (prefix is 'B' or 'S')
        {
            return true;
        }

        // current is I or E: it continues an open entity of the same type, else it opens one
        return previousPrefix is Outside or 'E' or 'S' || previousType != type;
    }
}
