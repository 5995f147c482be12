using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Microsoft.ML.PTuning.Training;

/// <summary>
/// AdamW (Loshchilov and Hutter; <c>torch.optim.AdamW</c> without amsgrad) over groups of parameters, each with its own
/// learning rate and weight decay, computing exactly what TorchSharp's <c>AdamW</c> computes, in the same order.
/// </summary>
/// <remarks>
/// TorchSharp 0.107's <c>AdamW.step</c> passes its coefficients as temporary Scalars, eight per parameter per step,
/// which a garbage collection set off by another thread can free while libtorch reads them (see
/// <c>Modeling/ScalarOperand</c>): a process that trains while other threads allocate (a web host, a UI) could abort
/// mid-step. This one holds every Scalar until the operation that reads it has returned. Per parameter and step:
/// <c>step += 1</c>; <c>p ·= 1 − lr·wd</c>; <c>m = β₁m + (1 − β₁)g</c>; <c>v = β₂v + (1 − β₂)g²</c>;
/// <c>p −= lr / (1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)</c>. A parameter without a gradient is skipped.
/// </remarks>
internal sealed class AdamWOptimizer : IDisposable
{
    public const double Beta1 = 0.9;
    public const double Beta2 = 0.999;
    public const double Epsilon = 1e-8;

    // The coefficients every step reads, held for the process; the step-dependent ones are made per group or parameter.
    private static readonly Scalar Beta1Scalar = Beta1.ToScalar();
    private static readonly Scalar OneMinusBeta1 = (1 - Beta1).ToScalar();
    private static readonly Scalar Beta2Scalar = Beta2.ToScalar();
    private static readonly Scalar OneMinusBeta2 = (1 - Beta2).ToScalar();
    private static readonly Scalar EpsilonScalar = Epsilon.ToScalar();

    private readonly List<Group> _groups;
    private readonly List<Moments> _moments; // one per parameter, in group order

    public AdamWOptimizer(IEnumerable<Group> groups)
    {
        _groups = groups.ToList();
        _moments = _groups.SelectMany(g => g.Parameters).Select(p => new Moments(p)).ToList();
    }

    /// <summary>A set of parameters sharing a learning rate (changed by the schedule each step) and a weight decay.</summary>
    public sealed class Group(IReadOnlyList<Parameter> parameters, double learningRate, double weightDecay)
    {
        public IReadOnlyList<Parameter> Parameters { get; } = parameters;

        public double LearningRate { get; set; } = learningRate;

        public double WeightDecay { get; } = weightDecay;
    }

    /// <summary>A parameter's step count (its bias correction) and first and second moments, zeros at the start.</summary>
    public sealed class Moments(Parameter parameter)
    {
        public Parameter Parameter { get; } = parameter;

        public long Step { get; set; }

        public Tensor ExpAvg { get; } = torch.zeros_like(parameter).DetachFromDisposeScope();

        public Tensor ExpAvgSq { get; } = torch.zeros_like(parameter).DetachFromDisposeScope();
    }

    public IReadOnlyList<Group> ParamGroups => _groups;

    /// <summary>Every parameter's moments, in group order (the groups' parameters one after another).</summary>
    public IReadOnlyList<Moments> State => _moments;

    /// <summary>Zeroes the gradients the parameters have (as TorchSharp's <c>zero_grad</c>).</summary>
    public void ZeroGrad()
    {
        foreach (var parameter in _groups.SelectMany(g => g.Parameters))
        {
            using Tensor? grad = parameter.grad;
            grad?.zero_();
        }
    }

    /// <summary>One AdamW update of every parameter that has a gradient.</summary>
    public void Step()
    {
        using var noGrad = torch.no_grad();
        int k = 0;
        foreach (var group in _groups)
        {
            using Scalar decay = (1 - group.LearningRate * group.WeightDecay).ToScalar();
            foreach (var parameter in group.Parameters)
            {
                var moments = _moments[k++];
                // Each parameter's temporaries (its gradient's handle, the denominator) are freed before the next one's
                // are made: under one scope for the whole step, full fine-tuning held a copy of every weight until its end.
                using var scope = torch.NewDisposeScope();
                Tensor? grad = parameter.grad;
                if (grad is null)
                    continue;
                moments.Step++;
                double correction1 = 1 - Math.Pow(Beta1, moments.Step);
                double correction2 = 1 - Math.Pow(Beta2, moments.Step);
                using Scalar root2 = Math.Sqrt(correction2).ToScalar();
                using Scalar stepSize = (-(group.LearningRate / correction1)).ToScalar();
                parameter.mul_(decay);
                moments.ExpAvg.mul_(Beta1Scalar).add_(grad, OneMinusBeta1);
                moments.ExpAvgSq.mul_(Beta2Scalar).addcmul_(grad, grad, OneMinusBeta2);
                Tensor denominator = moments.ExpAvgSq.sqrt().div_(root2).add_(EpsilonScalar);
                parameter.addcdiv_(moments.ExpAvg, denominator, stepSize);
            }
        }
    }

    public void Dispose()
    {
        foreach (var moments in _moments)
        {
            moments.ExpAvg.Dispose();
            moments.ExpAvgSq.Dispose();
        }
    }
}
