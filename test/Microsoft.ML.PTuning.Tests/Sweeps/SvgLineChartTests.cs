using System.Globalization;
using System.Xml.Linq;
using Microsoft.ML.PTuning.Sweeps;
using Xunit;

namespace Microsoft.ML.PTuning.Tests.Sweeps;

public sealed class SvgLineChartTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    [Fact]
    public void PointsLandWhereTheirValuesSay()
    {
        var chart = new SvgLineChart(600, 400) { XTicks = [(0, "a"), (10, "b")] };
        chart.Add("s", [(10, 3.0), (0, 1.0), (5, 2.0)]);

        var root = Write(chart);
        var (left, top, width, height) = chart.PlotArea;
        var ((xMin, xMax), (yMin, yMax)) = chart.Ranges();
        var circles = root.Descendants(Svg + "g").Single().Elements(Svg + "circle")
            .Select(c => (X: Number(c, "cx"), Y: Number(c, "cy"))).ToList();

        // Joined in x order; x = 0 at the left end of the range, the largest y highest (smallest pixel y).
        Assert.Equal(3, circles.Count);
        Assert.Equal(left + ((0 - xMin) / (xMax - xMin) * width), circles[0].X, 2);
        Assert.Equal(top + height - ((3 - yMin) / (yMax - yMin) * height), circles[2].Y, 2);
        Assert.True(circles[0].X < circles[1].X && circles[1].X < circles[2].X);
        Assert.True(circles[0].Y > circles[1].Y && circles[1].Y > circles[2].Y);
        Assert.All(circles, c => Assert.InRange(c.X, left, left + width));
        Assert.All(circles, c => Assert.InRange(c.Y, top, top + height));
        Assert.Equal(["a", "b"], Texts(root, "x-tick"));
    }

    [Fact]
    public void TextIsEscapedAndNonFinitePointsAreLeftOut()
    {
        var chart = new SvgLineChart(400, 300) { Title = "F1 <macro> & \"micro\"" };
        chart.Add("a<b", [(1, double.NaN), (2, 0.5), (double.PositiveInfinity, 1), (3, 0.7)]);

        var root = Write(chart);

        Assert.Contains(root.Elements(Svg + "text"), t => t.Value == "F1 <macro> & \"micro\"");
        var series = root.Elements(Svg + "g").Single();
        Assert.Equal("a<b", series.Element(Svg + "title")!.Value);
        Assert.Equal(2, series.Elements(Svg + "circle").Count());
        Assert.Equal(["a<b"], Texts(root, "legend"));
    }

    [Fact]
    public void FlatOrEmptyDataStillGivesARange()
    {
        var flat = new SvgLineChart(400, 300);
        flat.Add("only", [(4, 0.25)]);
        Assert.Equal(((3.5, 4.5), (-0.25, 0.75)), flat.Ranges());
        Assert.Empty(Write(flat).Descendants(Svg + "polyline"));
        Assert.Equal(((0, 1), (0, 1)), new SvgLineChart(400, 300).Ranges());
    }

    [Theory]
    [InlineData(0.0, 1.0, "0 0.2 0.4 0.6 0.8 1")]
    [InlineData(0.61, 0.74, "0.65 0.7")]
    [InlineData(-3.0, 12.0, "0 5 10")]
    public void TicksAreRoundNumbers(double min, double max, string expected) =>
        Assert.Equal(expected, string.Join(" ", SvgLineChart.NiceTicks(min, max).Select(t => t.ToString(CultureInfo.InvariantCulture))));

    [Fact]
    public void ATooSmallChartIsRefused()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => new SvgLineChart(100, 80));
        Assert.Contains("100 × 80", error.Message, StringComparison.Ordinal);
    }

    private static XElement Write(SvgLineChart chart)
    {
        string path = Path.Combine(TestPaths.NewTempFolder("svg"), "chart.svg");
        chart.Save(path);
        var root = XDocument.Load(path).Root!;
        Assert.Equal(Svg + "svg", root.Name);
        Assert.Equal(chart.Width.ToString(CultureInfo.InvariantCulture), (string?)root.Attribute("width"));
        return root;
    }

    private static double Number(XElement element, string attribute) =>
        double.Parse((string)element.Attribute(attribute)!, CultureInfo.InvariantCulture);

    private static IEnumerable<string> Texts(XElement root, string cssClass) =>
        root.Elements(Svg + "text").Where(t => (string?)t.Attribute("class") == cssClass).Select(t => t.Value);
}
