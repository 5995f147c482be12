namespace Microsoft.ML.PTuning.Runtime;

/// <summary>
/// A step of loading a base model (<see cref="BaseModel.Load"/>): hashing and reading each weight file, hashing the
/// configuration and tokenizer files, building the encoder, moving it to its device. The ML.NET layer turns it into the
/// public progress type.
/// </summary>
/// <param name="Step">What starts now ("reading model.safetensors"), or "ready" with <paramref name="Completed"/> = <paramref name="Total"/>.</param>
/// <param name="Completed">Steps done before this one.</param>
/// <param name="Total">Steps in all (known up front: two per weight file, and three).</param>
/// <param name="Elapsed">Time since the load began.</param>
/// <param name="Cached">True when the base was already loaded in this process (one report, nothing read).</param>
internal sealed record BaseModelLoadReport(string Step, int Completed, int Total, TimeSpan Elapsed, bool Cached);
