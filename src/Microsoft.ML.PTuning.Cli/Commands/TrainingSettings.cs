using System.ComponentModel;
using Microsoft.ML.PTuning.Cli.Data;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Microsoft.ML.PTuning.Cli.Commands;

/// <summary>The options of <c>train</c> and <c>sweep</c>: data, columns, base model, method and training settings.</summary>
internal class TrainingSettings : LabeledInputSettings
{
    [CommandOption("-d|--data <FILE>")]
    [Description("Training data: CSV with a header (--task text) or CoNLL (--task ner).")]
    public string? Data { get; init; }

    [CommandOption("--validation <FILE>")]
    [Description("Validation data (same format) for early stopping and best-epoch selection.")]
    public string? Validation { get; init; }

    [CommandOption("--validation-fraction <FRACTION>")]
    [Description("Without --validation: hold out this fraction of --data as validation (0 for none; sweep defaults to 0.1).")]
    public double? ValidationFraction { get; init; }

    [CommandOption("-t|--task <TASK>")]
    [Description("text (one label per text) or ner (one BIO tag per word).")]
    [DefaultValue(CliTask.Text)]
    public CliTask Task { get; init; }

    [CommandOption("-b|--base-model <FOLDER>")]
    [Description("Hugging Face model folder (config.json, weights, tokenizer files) of a BERT/RoBERTa-family encoder.")]
    public string? BaseModel { get; init; }

    [CommandOption("--onnx <FILE>")]
    [Description("Instead of --base-model: an encoder exported to ONNX, imported once (with --vocab) into --import-to.")]
    public string? Onnx { get; init; }

    [CommandOption("--vocab <FILE>")]
    [Description("The WordPiece vocab.txt of --onnx.")]
    public string? Vocab { get; init; }

    [CommandOption("--import-to <FOLDER>")]
    [Description("Where --onnx is imported (default: beside --output, named <output>-base); it must not exist yet.")]
    public string? ImportTo { get; init; }

    [CommandOption("-m|--method <METHOD>")]
    [Description("PrefixTuning (P-Tuning v2), PromptTuning, FullFineTuning or LinearProbe.")]
    [DefaultValue(TuningMethod.PrefixTuning)]
    public TuningMethod Method { get; init; }

    [CommandOption("-e|--epochs <N>")]
    [Description("Passes over the training data (early stopping may end sooner; default: the task's, 10 for text classification, 30 for NER).")]
    public int? Epochs { get; init; }

    [CommandOption("--batch-size <N>")]
    [Description("Examples per optimizer step.")]
    [DefaultValue(16)]
    public int BatchSize { get; init; } = 16;

    [CommandOption("--max-length <TOKENS>")]
    [Description("Tokens per input, prefix included; longer inputs are truncated (NER: split into word windows).")]
    [DefaultValue(128)]
    public int MaxLength { get; init; } = 128;

    [CommandOption("--precision <PRECISION>")]
    [Description("Float32, BFloat16 or Auto (bf16 where the device has fast bf16 arithmetic).")]
    [DefaultValue(ComputePrecision.Float32)]
    public ComputePrecision Precision { get; init; }

    [CommandOption("--patience <EPOCHS>")]
    [Description("Early stopping: epochs without validation gain before stopping (0: off; default: the task's, 3 for text classification, 5 for NER).")]
    public int? Patience { get; init; }

    [CommandOption("--seed <N>")]
    [Description("Seed of initialization, shuffling and splits.")]
    [DefaultValue(1)]
    public int Seed { get; init; } = 1;

    [CommandOption("--device <DEVICE>")]
    [Description("TorchSharp device, e.g. cpu or cuda:0 (default: CUDA when available, else CPU).")]
    public string? Device { get; init; }

    [CommandOption("--embed-base")]
    [Description("Store the base model inside the zip, so it loads on machines without the base folder.")]
    public bool EmbedBase { get; init; }

    /// <inheritdoc/>
    public override ValidationResult Validate()
    {
        if (Epochs is < 1)
            return ValidationResult.Error($"--epochs must be at least 1, not {Epochs}.");
        if (BatchSize < 1)
            return ValidationResult.Error($"--batch-size must be at least 1, not {BatchSize}.");
        if (MaxLength < 4)
            return ValidationResult.Error($"--max-length must be at least 4 tokens, not {MaxLength}.");
        if (Patience is < 0)
            return ValidationResult.Error($"--patience must be 0 (off) or more, not {Patience}.");
        if (ValidationFraction is double f && !(f >= 0 && f < 1))
            return ValidationResult.Error($"--validation-fraction must be in [0, 1), not {f}.");
        if (ValidationFraction > 0 && Validation != null)
            return ValidationResult.Error("--validation and --validation-fraction exclude each other: give one.");
        if (Format == DataFormat.Lines)
            return ValidationResult.Error("--format lines holds no labels; training reads csv or conll.");
        if (BaseModel != null && Onnx != null)
            return ValidationResult.Error("--base-model and --onnx exclude each other: give one.");
        if (BaseModel == null && Onnx == null)
            return ValidationResult.Error("A base model is required: --base-model <FOLDER>, or --onnx <FILE> with --vocab <FILE>.");
        if (Onnx != null && Vocab == null)
            return ValidationResult.Error("--onnx needs --vocab <FILE> (its WordPiece vocab.txt).");
        if (Task == CliTask.Ner && Text2Column != null)
            return ValidationResult.Error("--text2-column is for --task text (sentence pairs); NER reads one sentence per example.");
        return ValidationResult.Success();
    }
}
