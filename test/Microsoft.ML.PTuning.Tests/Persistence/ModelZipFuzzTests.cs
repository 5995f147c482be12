using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Persistence;
using Microsoft.ML.PTuning.Runtime;
using Microsoft.ML.PTuning.Tests.Pipeline;
using Xunit;
using Xunit.Abstractions;

namespace Microsoft.ML.PTuning.Tests.Persistence;

/// <summary>
/// Seeded damage and crafting over two tiny saved pipeline zips (base referenced, base embedded): truncations, bit flips
/// in every entry, deleted and oversized entries, other format versions, crafted digests, lengths and base file names
/// (traversals, absolute paths, 64-character path-like "digests"). Each variant of bytes this library reads must load and
/// predict exactly as the original or fail with the library's own FormatException / InvalidOperationException; bytes
/// only ML.NET reads (the zip's structure, its own transformers' entries, its part of Model.key such as the loader
/// assembly name) are counted apart, since ML.NET's exceptions are its own. No variant may load and predict
/// differently, and none may write a file outside its cache folder.
/// </summary>
[Collection(PipelineCollection.Name)]
public sealed class ModelZipFuzzTests : IDisposable
{
    private readonly TrainedModels _models;
    private readonly ITestOutputHelper _output;
    private readonly TrustFolders _folders = new();

    public ModelZipFuzzTests(TrainedModels models, ITestOutputHelper output)
    {
        _models = models;
        _output = output;
    }

    public void Dispose() => _folders.Dispose();

    private enum Outcome { Identical, ClearError, Other }

    /// <summary>Who reads the bytes a variant changed: this library (header, streams, versions) or ML.NET (zip, its own entries).</summary>
    private enum Reader { Library, MLNet }

    [Fact]
    public void EveryDamagedOrCraftedZipLoadsIdenticallyOrFailsNamingWhatIsWrong()
    {
        var evaluation = TinyData.LoadSingle(new MLContext(seed: 1), TinyData.Text(perClass: 2, seed: 3));
        string plain = _folders.SaveZip(_models.Context, _models.Text, _models.TextData, "plain.zip");
        var (context, embeddedModel, data) = ModelZipTests.FitOwnBase(TinyBaseModel.Create("roberta", seed: 211), embed: true);
        string embedded = _folders.SaveZip(context, embeddedModel, data, "embedded.zip");

        var counts = new Dictionary<(Reader, Outcome), int>();
        var others = new List<string>();
        var messages = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var (zip, model, isEmbedded) in new[] { (plain, _models.Text, false), (embedded, embeddedModel, true) })
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            int before = counts.Values.Sum();
            var variants = new ZipVariants(zip);
            var expected = Predict(model, evaluation);
            foreach (var (label, reader, make) in Variants(variants, isEmbedded))
            {
                if (isEmbedded)
                    _folders.ClearCache(); // every embedded variant extracts again: the Base/ entries are read, not a cached copy
                var (outcome, detail) = Try(make(), expected, evaluation, reader);
                counts[(reader, outcome)] = counts.GetValueOrDefault((reader, outcome)) + 1;
                if (outcome == Outcome.Other)
                    others.Add($"{reader} {Path.GetFileName(zip)} {label}: {detail}");
                else if (outcome == Outcome.ClearError)
                    messages[Shorten(detail)] = messages.GetValueOrDefault(Shorten(detail)) + 1;
            }
            _output.WriteLine($"{Path.GetFileName(zip)}: {counts.Values.Sum() - before} variants in {clock.Elapsed.TotalSeconds:F1} s");
        }

        int Count(Reader? reader, Outcome outcome) => counts.Where(c => (reader == null || c.Key.Item1 == reader) && c.Key.Item2 == outcome).Sum(c => c.Value);
        int total = counts.Values.Sum();
        _output.WriteLine($"{total} variants: identical {Count(null, Outcome.Identical)}, clear error {Count(null, Outcome.ClearError)}, other {Count(null, Outcome.Other)}");
        foreach (var reader in new[] { Reader.Library, Reader.MLNet })
            _output.WriteLine($"  bytes read by {reader}: identical {Count(reader, Outcome.Identical)}, clear error {Count(reader, Outcome.ClearError)}, other {Count(reader, Outcome.Other)}");
        foreach (var (message, count) in messages)
            _output.WriteLine($"  {count,4} × {message}");
        foreach (string other in others)
            _output.WriteLine("  OTHER " + other);

        Assert.True(total >= 200, $"only {total} variants");
        Assert.True(Count(Reader.Library, Outcome.Identical) + Count(Reader.Library, Outcome.ClearError) >= 200, "at least 200 variants of the library's bytes");
        // What this library reads fails with its own exception; nothing, whoever reads it, loads and predicts differently.
        Assert.Equal(0, Count(Reader.Library, Outcome.Other));
        Assert.DoesNotContain(others, o => o.EndsWith(LoadedDifferently, StringComparison.Ordinal));
        _folders.AssertNothingWrittenOutsideTheCache();
    }

    private const string LoadedDifferently = "loaded and predicted differently";

    private IEnumerable<(string Label, Reader Reader, Func<byte[]> Make)> Variants(ZipVariants zip, bool embedded)
    {
        var random = new Random(embedded ? 17 : 13);
        int n = zip.Original.Length;
        foreach (int length in new[] { 0, 1, 22, n / 8, n / 2, 3 * n / 4, n - 22, n - 1 })
            yield return ($"truncated to {length} bytes", Reader.MLNet, () => zip.Original[..length]);

        foreach (var (name, bytes) in zip.Entries)
        {
            if (bytes.Length == 0)
                continue;
            bool ours = name.StartsWith(zip.Folder, StringComparison.Ordinal);
            int flips = ours ? 8 : 3;
            foreach (int offset in new[] { 0, bytes.Length - 1 }.Concat(Enumerable.Range(0, flips - 2).Select(_ => random.Next(bytes.Length))))
            {
                int bit = random.Next(8);
                var reader = ours && (name != zip.ModelKey || zip.InHeaderBlock(offset)) ? Reader.Library : Reader.MLNet;
                yield return ($"'{name}' bit {bit} of byte {offset} flipped", reader, () => zip.Flip(name, offset, bit));
            }
            // Without its Model.key stream ML.NET never reaches this library's loader.
            var deletedReader = ours && name != zip.ModelKey ? Reader.Library : Reader.MLNet;
            yield return ($"'{name}' deleted", deletedReader, () => zip.With(name, null));
        }
        foreach (int offset in Enumerable.Range(0, 12).Select(_ => zip.HeaderBlockOffset(random)))
        {
            int bit = random.Next(8);
            yield return ($"header block bit {bit} of byte {offset} flipped", Reader.Library, () => zip.Flip(zip.ModelKey, offset, bit));
        }

        foreach (var (written, readable) in new (uint, uint)[]
            { (0x00010001, 0x00010001), (0x00010002, 0x00010002), (0x00010004, 0x00010004), (0x00010004, 0x00010003), (0x00010003, 0x00010004), (0x00020000, 0x00020000), (0, 0), (uint.MaxValue, uint.MaxValue) })
        {
            yield return ($"format version 0x{written:X8} readable 0x{readable:X8}", Reader.Library, () => zip.WithVersion(written, readable));
        }

        string adapter = zip.Folder + ModelZipFormat.AdapterStream;
        yield return ("adapter one byte longer", Reader.Library, () => zip.With(adapter, [.. zip[adapter], 0]));
        yield return ("adapter one byte shorter", Reader.Library, () => zip.With(adapter, zip[adapter][..^1]));
        yield return ("adapter followed by 64 MiB", Reader.Library, () => zip.With(adapter, [.. zip[adapter], .. new byte[64 << 20]]));
        if (embedded)
        {
            string weights = zip.Folder + EmbeddedBaseModel.StreamName("model.safetensors");
            yield return ("embedded weights followed by 1 MiB", Reader.Library, () => zip.With(weights, [.. zip[weights], .. new byte[1 << 20]]));
            yield return ("embedded weights one byte shorter", Reader.Library, () => zip.With(weights, zip[weights][..^1]));
        }

        foreach (var (label, make) in CraftedHeaders(zip))
            yield return (label, Reader.Library, make);
    }

    // Headers an attacker would write: the fields changed, the header's own SHA-256 recomputed to match.
    private IEnumerable<(string Label, Func<byte[]> Make)> CraftedHeaders(ZipVariants zip)
    {
        var header = zip.Header;
        var files = header.BaseFiles;
        string[] names =
        [
            "../../sentinel/x", "../../../" + Path.GetFileName(_folders.Root) + "/sentinel/x", Path.Combine(_folders.Sentinel, "x"),
            "config.json/../../sentinel/x", "", ".", "..", "sub/config.json", "config.json\0", "CONFIG.JSON", "authorized_keys", " vocab.json",
        ];
        foreach (string name in names)
        {
            foreach (int index in new[] { 0, files.Count - 1 })
                yield return ($"base file {index} named '{name}'", () => zip.WithHeader(header with { BaseFiles = Replace(files, index, files[index] with { Name = name }) }));
        }
        yield return ("a base file listed twice", () => zip.WithHeader(header with { BaseFiles = Replace(files, 2, files[1]) }));
        yield return ("no base files", () => zip.WithHeader(header with { BaseFiles = [] }));
        yield return ("only config.json", () => zip.WithHeader(header with { BaseFiles = [files[0]] }));
        yield return ("no weight file", () => zip.WithHeader(header with { BaseFiles = files.Where((_, i) => i != 1).ToArray() }));
        yield return ("a tokenizer file left out", () => zip.WithHeader(header with { BaseFiles = files.Take(files.Count - 1).ToArray() }));
        yield return ("the files listed 20 times", () => zip.WithHeader(header with { BaseFiles = Enumerable.Repeat(files, 20).SelectMany(f => f).ToArray() }));
        // The prompt fields: only the masked-LM methods have them, and they need both, one or more words per class.
        string[][] words = Enumerable.Range(0, header.ClassCount).Select(_ => new[] { "card" }).ToArray();
        yield return ("a prompt template for a prefix model", () => zip.WithHeader(header with { PromptTemplate = "{Sentence1} {mask}", LabelWords = words }));
        yield return ("HandcraftedPrompt without a template", () => zip.WithHeader(header with { Method = TuningMethod.HandcraftedPrompt, LabelWords = words }));
        yield return ("PTuningV1 without label words", () => zip.WithHeader(header with { Method = TuningMethod.PTuningV1, PromptTemplate = "{prompt:2} {Sentence1} {mask}" }));
        yield return ("HandcraftedPrompt with a class without words", () => zip.WithHeader(header with
        {
            Method = TuningMethod.HandcraftedPrompt,
            PromptTemplate = "{Sentence1} {mask}",
            LabelWords = words.Select((w, i) => i == 0 ? Array.Empty<string>() : w).ToArray(),
        }));
        yield return ("HandcraftedPrompt with a malformed template", () => zip.WithHeader(header with { Method = TuningMethod.HandcraftedPrompt, PromptTemplate = "{Sentence1} {oops}", LabelWords = words }));

        string hexCaps = files[1].Sha256.ToUpperInvariant();
        string[] digests =
        [
            TrustFolders.PathLike64(_folders.Sentinel), string.Concat(Enumerable.Repeat("../", 21)) + "x", files[1].Sha256[..63],
            files[1].Sha256 + "0", new string('g', 64), hexCaps[..^1] + (hexCaps[^1] == 'A' ? 'B' : 'A'), "",
        ];
        foreach (string digest in digests)
        {
            foreach (int index in new[] { 0, 1, files.Count - 1 })
                yield return ($"base file {index} digest '{digest}'", () => zip.WithHeader(header with { BaseFiles = Replace(files, index, files[index] with { Sha256 = digest }) }));
            yield return ($"adapter digest '{digest}'", () => zip.WithHeader(header with { AdapterSha256 = digest }));
        }
        // Upper-case hex of the right digests is the same digest: it must load.
        yield return ("digests in upper case", () => zip.WithHeader(header with
        {
            BaseFiles = files.Select(f => f with { Sha256 = f.Sha256.ToUpperInvariant() }).ToArray(),
            AdapterSha256 = header.AdapterSha256.ToUpperInvariant(),
        }));

        foreach (long delta in new[] { -1L, 1L })
        {
            yield return ($"adapter length {delta:+0;-0}", () => zip.WithHeader(header with { AdapterLength = header.AdapterLength + delta }));
            foreach (int index in new[] { 0, 1, files.Count - 1 })
                yield return ($"base file {index} length {delta:+0;-0}", () => zip.WithHeader(header with { BaseFiles = Replace(files, index, files[index] with { Length = files[index].Length + delta }) }));
        }
        foreach (long length in new[] { 0L, -1L, long.MaxValue })
        {
            yield return ($"adapter length {length}", () => zip.WithHeader(header with { AdapterLength = length }));
            yield return ($"weights length {length}", () => zip.WithHeader(header with { BaseFiles = Replace(files, 1, files[1] with { Length = length }) }));
        }
        foreach (string folder in new[] { "relative/base", "", "/nonexistent/base", "/x\0y" })
            yield return ($"base folder '{folder}'", () => zip.WithHeader(header with { BaseFolder = folder }));

        byte[] payload = header.ToBytes();
        yield return ("header cut short", () => zip.WithHeaderBytes(payload[..^5]));
        yield return ("header with a byte after it", () => zip.WithHeaderBytes([.. payload, 0]));
        // After six ints comes the first string: a length prefix that is no 7-bit encoded integer, then one far too long.
        yield return ("header string length malformed", () => zip.WithHeaderBytes([.. payload[..24], 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, .. payload[29..]]));
        yield return ("header string length too long", () => zip.WithHeaderBytes([.. payload[..24], 0xFF, 0xFF, 0xFF, 0x7F, .. payload[28..]]));
    }

    private static BaseModelFile[] Replace(IReadOnlyList<BaseModelFile> files, int index, BaseModelFile file) =>
        files.Select((f, i) => i == index ? file : f).ToArray();

    private (Outcome, string) Try(byte[] zip, (float[][] Scores, string[] Labels) expected, IDataView evaluation, Reader reader)
    {
        string path = _folders.VariantPath();
        File.WriteAllBytes(path, zip);
        ITransformer loaded;
        try
        {
            loaded = new MLContext(seed: 1).Model.Load(path, out _);
        }
        catch (Exception e)
        {
            return Classify(e, reader);
        }
        try
        {
            var actual = Predict(loaded, evaluation);
            bool same = actual.Labels.SequenceEqual(expected.Labels) && actual.Scores.Length == expected.Scores.Length
                && actual.Scores.Zip(expected.Scores).All(p => p.First.SequenceEqual(p.Second));
            return same ? (Outcome.Identical, "") : (Outcome.Other, LoadedDifferently);
        }
        catch (Exception e)
        {
            return Classify(e, reader);
        }
        finally
        {
            TinyData.PrefixTuningOf(loaded).Dispose();
        }
    }

    // The library's own errors start so; ML.NET's loader wraps what a Create throws (reflection, "class instantiation").
    private static (Outcome, string) Classify(Exception e, Reader reader)
    {
        var cause = TinyData.Innermost(e);
        while (cause is InvalidOperationException { InnerException: { } inner } && cause.Message.StartsWith("Error during class instantiation", StringComparison.Ordinal))
            cause = TinyData.Innermost(inner);
        bool clear = cause is FormatException or InvalidOperationException && (reader == Reader.MLNet
            ? cause.Message.Length > 0
            : cause.Message.StartsWith("The prefix-tuning model", StringComparison.Ordinal) || cause.Message.StartsWith("This prefix-tuning model", StringComparison.Ordinal));
        return (clear ? Outcome.ClearError : Outcome.Other, $"{cause.GetType().Name}: {cause.Message}");
    }

    private static (float[][] Scores, string[] Labels) Predict(ITransformer model, IDataView data)
    {
        var output = model.Transform(data);
        return (TinyData.Scores(output), output.GetColumn<string>("PredictedText").ToArray());
    }

    // Messages cut before their details (paths, digests), so that the test's output lists the kinds of error seen.
    private static string Shorten(string message)
    {
        string first = message.Split('\n')[0];
        int cut = first.IndexOfAny(['\'', '(', '/']);
        return first[..(cut > 40 ? cut : Math.Min(first.Length, 100))];
    }
}
