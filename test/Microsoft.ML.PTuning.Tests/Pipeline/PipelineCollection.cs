using Xunit;

namespace Microsoft.ML.PTuning.Tests.Pipeline;

/// <summary>
/// The pipeline tests train models, and training draws from libtorch's process-wide random generator (initialization
/// and dropout). They run alone, so that other tests drawing from it at the same time cannot change a seeded result.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class PipelineCollection : ICollectionFixture<TrainedModels>
{
    public const string Name = "Pipeline (torch generator)";
}
