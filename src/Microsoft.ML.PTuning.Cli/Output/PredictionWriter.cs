using System.Globalization;
using System.Text.Json;
using Microsoft.ML.Data;
using Microsoft.ML.PTuning.Cli.Data;
using Microsoft.ML.PTuning.Cli.Models;

namespace Microsoft.ML.PTuning.Cli.Output;

/// <summary>
/// Writes a scored view as CSV or JSON lines, nothing else: text models give the predicted label, its probability and
/// (JSON) every class's; NER models give one tag per word.
/// </summary>
internal static class PredictionWriter
{
    /// <summary>Writes every row of <paramref name="scored"/>; returns the row count.</summary>
    public static int Write(IDataView scored, LoadedModel model, OutputFormat format, TextWriter output)
    {
        bool json = format == OutputFormat.Jsonl;
        bool pairs = scored.Schema.GetColumnOrNull(DataColumns.Text2) is not null;
        DataViewSchema.Column[] columns = new[] { DataColumns.Text, DataColumns.Text2, DataColumns.PredictedLabel, DataColumns.Score }
            .Select(name => scored.Schema.GetColumnOrNull(name)).OfType<DataViewSchema.Column>().ToArray();
        using DataViewRowCursor cursor = scored.GetRowCursor(columns);
        var getText = cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema[DataColumns.Text]);
        ValueGetter<ReadOnlyMemory<char>>? getText2 = pairs ? cursor.GetGetter<ReadOnlyMemory<char>>(scored.Schema[DataColumns.Text2]) : null;
        ReadOnlyMemory<char> text = default, text2 = default;
        int rows = 0;
        if (model.Task == CliTask.Ner)
        {
            var getTags = cursor.GetGetter<VBuffer<uint>>(scored.Schema[DataColumns.PredictedLabel]);
            VBuffer<uint> tags = default;
            if (!json)
                output.WriteLine("Text,PredictedTags");
            while (cursor.MoveNext())
            {
                getText(ref text);
                getTags(ref tags);
                string[] names = tags.DenseValues().Select(model.ClassName).ToArray();
                string sentence = text.ToString();
                if (json)
                {
                    string[] words = sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
                    output.WriteLine(JsonSerializer.Serialize(new { text = sentence, words, tags = names }, JsonOutput.Line));
                }
                else
                {
                    output.WriteLine($"{Csv(sentence)},{Csv(string.Join(' ', names))}");
                }
                rows++;
            }
            return rows;
        }

        var getKey = cursor.GetGetter<uint>(scored.Schema[DataColumns.PredictedLabel]);
        var getScore = cursor.GetGetter<VBuffer<float>>(scored.Schema[DataColumns.Score]);
        uint key = 0;
        VBuffer<float> score = default;
        if (!json)
            output.WriteLine(pairs ? "Text,Text2,PredictedLabel,Score" : "Text,PredictedLabel,Score");
        while (cursor.MoveNext())
        {
            getText(ref text);
            getText2?.Invoke(ref text2);
            getKey(ref key);
            getScore(ref score);
            float[] probabilities = score.DenseValues().ToArray();
            float top = key >= 1 && key <= probabilities.Length ? probabilities[key - 1] : float.NaN;
            string label = model.ClassName(key);
            if (json)
            {
                var scores = new Dictionary<string, float>(StringComparer.Ordinal);
                for (int c = 0; c < probabilities.Length; c++)
                    scores[model.ClassName((uint)c + 1)] = probabilities[c];
                object line = pairs
                    ? new { text = text.ToString(), text2 = text2.ToString(), predictedLabel = label, score = top, scores }
                    : new { text = text.ToString(), predictedLabel = label, score = top, scores };
                output.WriteLine(JsonSerializer.Serialize(line, JsonOutput.Line));
            }
            else
            {
                string second = pairs ? Csv(text2.ToString()) + "," : "";
                output.WriteLine($"{Csv(text.ToString())},{second}{Csv(label)},{top.ToString("G6", CultureInfo.InvariantCulture)}");
            }
            rows++;
        }
        return rows;
    }

    /// <summary>A CSV field, quoted when it holds a comma, quote or line break.</summary>
    internal static string Csv(string value) =>
        value.AsSpan().IndexOfAny(",\"\r\n") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
