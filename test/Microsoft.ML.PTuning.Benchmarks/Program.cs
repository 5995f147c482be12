// Benchmarks of Microsoft.ML.PTuning on real data and the real pretrained all-MiniLM-L6-v2 (see docs/BENCHMARKS.md):
//
//   dotnet run -c Release --project test/Microsoft.ML.PTuning.Benchmarks -- <quality|speed|all|projection|precision|depth> [--quick] [--data DIR] [--out DIR] [--model <HF folder>]
//
// quality: Banking77 accuracy and WNUT-17 entity F1 of P-Tuning v2 against prompt tuning, a linear probe and full
// fine-tuning. speed: training-step time, MFU and memory per method; inference against ONNX Runtime; zip size.
// precision: the speed suite's fp32/bf16 rows alone. projection (not in all): the prefix MLP's learning rate against collapse, on Banking77.
// depth (not in all): partial depth (PrefixDepth k = L/2, 1) against full depth, quality and epoch time.
using System.Diagnostics;
using Microsoft.ML.PTuning.Benchmarks;
using Microsoft.ML.PTuning.Samples;

BenchmarkArguments arguments;
try
{
    arguments = BenchmarkArguments.Parse(args);
}
catch (Exception e) when (e is ArgumentException or DirectoryNotFoundException or InvalidOperationException)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

var clock = Stopwatch.StartNew();
string baseModel = arguments.ModelFolder ?? MiniLM.HuggingFaceFolder;
Log.Line($"Benchmarks: suite {arguments.Suite}, {(arguments.Quick ? "QUICK" : "full")} profile; data {arguments.DataFolder}; output {arguments.OutputFolder}");
Log.Line($"Base model: {baseModel}");
Log.Line($"Machine: {Report.Machine()}");
if (arguments.RunsSpeed)
    new SpeedSuite(arguments, baseModel).Run();
if (arguments.RunsQuality)
    new ConvergedQualitySuite(arguments, baseModel).Run();
if (arguments.RunsPrecisionOnly)
    new PrecisionSuite(arguments, baseModel).Run();
if (arguments.RunsProjection)
    new ProjectionSuite(arguments, baseModel).Run();
if (arguments.RunsDepth)
    new DepthSuite(arguments, baseModel).Run();
Log.Line($"All done in {clock.Elapsed:hh\\:mm\\:ss} ({(arguments.Quick ? "quick" : "full")} profile).");
return 0;
