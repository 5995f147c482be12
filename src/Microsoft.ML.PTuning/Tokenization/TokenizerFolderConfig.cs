using System.Text.Json;

namespace Microsoft.ML.PTuning.Tokenization;

/// <summary>
/// The tokenizer settings a Hugging Face folder may carry in <c>tokenizer_config.json</c> and
/// <c>special_tokens_map.json</c>; every member is null when the folder does not say.
/// </summary>
internal sealed class TokenizerFolderConfig
{
    internal const string ConfigFileName = "tokenizer_config.json";
    internal const string SpecialTokensMapFileName = "special_tokens_map.json";

    private readonly Dictionary<string, SpecialTokenSetting> _specialTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, bool> _addedTokenLStrip = new(StringComparer.Ordinal);

    public bool? DoLowerCase { get; private set; }

    public bool? StripAccents { get; private set; }

    public bool? TokenizeChineseChars { get; private set; }

    /// <summary>A special token by its role (<c>cls_token</c>, <c>sep_token</c>, <c>pad_token</c>, ...), or the default.</summary>
    public string Token(string role, string defaultValue) =>
        _specialTokens.TryGetValue(role, out SpecialTokenSetting? s) ? s.Content : defaultValue;

    /// <summary>
    /// Whether the special token of this role swallows the white space on its left (Hugging Face <c>lstrip</c>, as RoBERTa's
    /// <c>&lt;mask&gt;</c>), or the default when the folder does not say.
    /// </summary>
    public bool LStrip(string role, bool defaultValue)
    {
        if (_specialTokens.TryGetValue(role, out SpecialTokenSetting? s))
        {
            if (s.LStrip is bool l)
            {
                return l;
            }
            if (_addedTokenLStrip.TryGetValue(s.Content, out bool fromAdded))
            {
                return fromAdded;
            }
        }
        return defaultValue;
    }

    public static TokenizerFolderConfig Load(string folder)
    {
        var config = new TokenizerFolderConfig();
        string configPath = Path.Combine(folder, ConfigFileName);
        if (File.Exists(configPath))
        {
            config.Read(configPath, isConfig: true);
        }
        // Hugging Face lets special_tokens_map.json override tokenizer_config.json.
        string mapPath = Path.Combine(folder, SpecialTokensMapFileName);
        if (File.Exists(mapPath))
        {
            config.Read(mapPath, isConfig: false);
        }
        return config;
    }

    private void Read(string path, bool isConfig)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(File.ReadAllBytes(path));
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"'{path}' is not valid JSON: {ex.Message}", ex);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"'{path}' must hold a JSON object.");
            }
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "do_lower_case" when isConfig:
                        DoLowerCase = ReadBool(path, property);
                        break;
                    case "strip_accents" when isConfig:
                        StripAccents = ReadBool(path, property);
                        break;
                    case "tokenize_chinese_chars" when isConfig:
                        TokenizeChineseChars = ReadBool(path, property);
                        break;
                    case "added_tokens_decoder" when isConfig && property.Value.ValueKind == JsonValueKind.Object:
                        foreach (JsonProperty added in property.Value.EnumerateObject())
                        {
                            if (ReadToken(path, added) is { LStrip: bool lstrip } token)
                            {
                                _addedTokenLStrip[token.Content] = lstrip;
                            }
                        }
                        break;
                    case "cls_token" or "sep_token" or "pad_token" or "unk_token" or "mask_token" or "bos_token" or "eos_token":
                        if (ReadToken(path, property) is SpecialTokenSetting setting)
                        {
                            _specialTokens[property.Name] = setting;
                        }
                        break;
                }
            }
        }
    }

    private static bool? ReadBool(string path, JsonProperty property) => property.Value.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        _ => throw new InvalidDataException($"'{path}': \"{property.Name}\" must be true, false or null, not {property.Value.ValueKind}."),
    };

    // A token is written either as a plain string or as an AddedToken object {"content": ..., "lstrip": ...}.
    private static SpecialTokenSetting? ReadToken(string path, JsonProperty property)
    {
        JsonElement value = property.Value;
        switch (value.ValueKind)
        {
            case JsonValueKind.Null:
                return null;
            case JsonValueKind.String:
                return new SpecialTokenSetting(value.GetString()!, null);
            case JsonValueKind.Object when value.TryGetProperty("content", out JsonElement content) && content.ValueKind == JsonValueKind.String:
                bool? lstrip = value.TryGetProperty("lstrip", out JsonElement l) && l.ValueKind is JsonValueKind.True or JsonValueKind.False
                    ? l.GetBoolean()
                    : null;
                return new SpecialTokenSetting(content.GetString()!, lstrip);
            default:
                throw new InvalidDataException(
                    $"'{path}': \"{property.Name}\" must be a string or an object with a string \"content\", not {value.ValueKind}.");
        }
    }

    private sealed record SpecialTokenSetting(string Content, bool? LStrip);
}
