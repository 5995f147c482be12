using Xunit;

// Test collections run one after another. Torch's thread count is process-wide: the sweep and prompt tests set one thread
// for their collection (SingleTorchThread), and a fit that ran beside them at another thread count summed in another
// order and learned the tiny tasks differently, so the seeded accuracy assertions passed or failed with the timing.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
