namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// One file a base model is made of (<c>config.json</c>, the weight file, a tokenizer file): its plain name in the
/// folder, its byte length and its lower-case hex SHA-256. Together they are the base model's identity.
/// </summary>
internal sealed record BaseModelFile(string Name, long Length, string Sha256);
