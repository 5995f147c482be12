using System.Globalization;
using System.Text;
using System.Xml;

namespace Microsoft.ML.PTuning.Sweeps;

/// <summary>
/// A small line chart written as SVG with managed code only (System.Xml), so the core package carries no native
/// graphics library: one polyline with round markers per series, a frame with labelled ticks, dashed grid lines at the
/// y ticks, a title, axis labels and a legend to the right of the data area (so no point hides behind it).
/// </summary>
internal sealed class SvgLineChart
{
    private const double MarginLeft = 70, MarginRight = 150, MarginTop = 40, MarginBottom = 60, MarkerRadius = 4;

    // Ten distinguishable hues, in the order series are added (then repeated).
    private static readonly string[] Colors =
        ["#1f5fbf", "#e0701a", "#2f9e44", "#c92a2a", "#7048c8", "#8c5a3c", "#d6409f", "#666666", "#a8a81e", "#15aabf"];

    private readonly List<(string Name, (double X, double Y)[] Points)> _series = [];

    /// <summary>A chart of <paramref name="width"/> × <paramref name="height"/> pixels.</summary>
    public SvgLineChart(int width, int height)
    {
        if (width <= MarginLeft + MarginRight || height <= MarginTop + MarginBottom)
            throw new ArgumentOutOfRangeException(nameof(width), $"a chart needs more than {MarginLeft + MarginRight} × {MarginTop + MarginBottom} pixels, got {width} × {height}");
        Width = width;
        Height = height;
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>The title above the data area.</summary>
    public string Title { get; init; } = "";

    /// <summary>The label under the x axis.</summary>
    public string XLabel { get; init; } = "";

    /// <summary>The label beside the y axis.</summary>
    public string YLabel { get; init; } = "";

    /// <summary>The x axis ticks (data position and text); none: ticks at nice numbers over the data's range.</summary>
    public IReadOnlyList<(double Position, string Label)> XTicks { get; init; } = [];

    /// <summary>The series, in the order added.</summary>
    public IReadOnlyList<(string Name, (double X, double Y)[] Points)> Series => _series;

    /// <summary>Adds a series; points that are not finite are left out, the rest are joined in x order.</summary>
    public void Add(string name, IEnumerable<(double X, double Y)> points)
    {
        ArgumentNullException.ThrowIfNull(name);
        _series.Add((name, points.Where(p => double.IsFinite(p.X) && double.IsFinite(p.Y)).OrderBy(p => p.X).ToArray()));
    }

    /// <summary>The data area: left, top, width and height in pixels.</summary>
    public (double Left, double Top, double Width, double Height) PlotArea =>
        (MarginLeft, MarginTop, Width - MarginLeft - MarginRight, Height - MarginTop - MarginBottom);

    /// <summary>The x and y ranges the data area spans: the data's, with room at the ends, and at least 1 wide when flat.</summary>
    public ((double Min, double Max) X, (double Min, double Max) Y) Ranges()
    {
        var points = _series.SelectMany(s => s.Points).ToList();
        var xs = points.Select(p => p.X).Concat(XTicks.Select(t => t.Position)).ToList();
        return (Span(xs, pad: 0.05), Span(points.Select(p => p.Y).ToList(), pad: 0.08));
    }

    /// <summary>Writes the chart to <paramref name="path"/> (UTF-8).</summary>
    public void Save(string path)
    {
        using var stream = File.Create(path);
        using var xml = XmlWriter.Create(stream, new XmlWriterSettings { Indent = true, Encoding = new UTF8Encoding(false) });
        Write(xml);
    }

    private void Write(XmlWriter xml)
    {
        const string ns = "http://www.w3.org/2000/svg";
        var (xRange, yRange) = Ranges();
        var (left, top, width, height) = PlotArea;
        double ToX(double x) => left + ((x - xRange.Min) / (xRange.Max - xRange.Min) * width);
        double ToY(double y) => top + height - ((y - yRange.Min) / (yRange.Max - yRange.Min) * height);

        xml.WriteStartElement("svg", ns);
        Attributes(xml, ("width", Width), ("height", Height));
        xml.WriteAttributeString("viewBox", $"0 0 {Width} {Height}");
        xml.WriteAttributeString("font-family", "sans-serif");
        xml.WriteAttributeString("font-size", "12");
        Element(xml, "rect", ("x", 0), ("y", 0), ("width", Width), ("height", Height), ("fill", "white"));

        Text(xml, Title, left + (width / 2), MarginTop / 2 + 5, "middle", ("font-size", "16"));
        Text(xml, XLabel, left + (width / 2), Height - 15, "middle");
        xml.WriteStartElement("text", ns);
        Attributes(xml, ("x", 0), ("y", 0), ("text-anchor", "middle"));
        xml.WriteAttributeString("transform", $"translate(18 {Format(top + (height / 2))}) rotate(-90)");
        xml.WriteString(YLabel);
        xml.WriteEndElement();

        // Grid and ticks.
        foreach (double y in NiceTicks(yRange.Min, yRange.Max))
        {
            double py = ToY(y);
            Element(xml, "line", ("class", "grid"), ("x1", left), ("y1", py), ("x2", left + width), ("y2", py), ("stroke", "#dddddd"), ("stroke-dasharray", "4 3"));
            Element(xml, "line", ("x1", left - 5), ("y1", py), ("x2", left), ("y2", py), ("stroke", "black"));
            Text(xml, Format(y, 6), left - 8, py + 4, "end", ("class", "y-tick"));
        }
        var xTicks = XTicks.Count > 0 ? XTicks : NiceTicks(xRange.Min, xRange.Max).Select(x => (x, Format(x, 6))).ToList();
        foreach (var (position, label) in xTicks)
        {
            double px = ToX(position);
            Element(xml, "line", ("x1", px), ("y1", top + height), ("x2", px), ("y2", top + height + 5), ("stroke", "black"));
            Text(xml, label, px, top + height + 20, "middle", ("class", "x-tick"));
        }
        Element(xml, "rect", ("x", left), ("y", top), ("width", width), ("height", height), ("fill", "none"), ("stroke", "black"));

        // Series, then the legend beside the data area.
        for (int i = 0; i < _series.Count; i++)
        {
            var (name, points) = _series[i];
            string color = Colors[i % Colors.Length];
            xml.WriteStartElement("g", ns);
            Attributes(xml, ("class", "series"), ("fill", color), ("stroke", color));
            xml.WriteElementString("title", ns, name);
            if (points.Length > 1)
            {
                Element(xml, "polyline", ("fill", "none"), ("stroke-width", 2),
                    ("points", string.Join(" ", points.Select(p => $"{Format(ToX(p.X))},{Format(ToY(p.Y))}"))));
            }
            foreach (var (x, y) in points)
                Element(xml, "circle", ("cx", ToX(x)), ("cy", ToY(y)), ("r", MarkerRadius));
            xml.WriteEndElement();

            double ly = top + 10 + (i * 20);
            double lx = left + width + 15;
            Element(xml, "line", ("x1", lx), ("y1", ly), ("x2", lx + 24), ("y2", ly), ("stroke", color), ("stroke-width", 2));
            Element(xml, "circle", ("cx", lx + 12), ("cy", ly), ("r", MarkerRadius), ("fill", color));
            Text(xml, name, lx + 30, ly + 4, "start", ("class", "legend"));
        }
        xml.WriteEndElement();
    }

    /// <summary>Ticks at 1, 2 or 5 × 10ⁿ apart, about five over [min, max].</summary>
    internal static IReadOnlyList<double> NiceTicks(double min, double max)
    {
        double raw = (max - min) / 5;
        double magnitude = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = new[] { 1.0, 2, 5, 10 }.Select(m => m * magnitude).First(s => s >= raw);
        int decimals = Math.Clamp(-(int)Math.Floor(Math.Log10(step)), 0, 15);
        var ticks = new List<double>();
        for (long k = (long)Math.Ceiling(min / step); k * step <= max + (step * 1e-9); k++)
            ticks.Add(Math.Round(k * step, decimals));
        return ticks;
    }

    private static (double Min, double Max) Span(IReadOnlyList<double> values, double pad)
    {
        if (values.Count == 0)
            return (0, 1);
        double min = values.Min(), max = values.Max();
        if (max - min < 1e-12)
            return (min - 0.5, max + 0.5);
        double room = (max - min) * pad;
        return (min - room, max + room);
    }

    private static void Text(XmlWriter xml, string text, double x, double y, string anchor, params (string Name, object Value)[] extra)
    {
        xml.WriteStartElement("text", "http://www.w3.org/2000/svg");
        Attributes(xml, ("x", x), ("y", y), ("text-anchor", anchor));
        Attributes(xml, extra);
        xml.WriteString(text);
        xml.WriteEndElement();
    }

    private static void Element(XmlWriter xml, string name, params (string Name, object Value)[] attributes)
    {
        xml.WriteStartElement(name, "http://www.w3.org/2000/svg");
        Attributes(xml, attributes);
        xml.WriteEndElement();
    }

    private static void Attributes(XmlWriter xml, params (string Name, object Value)[] attributes)
    {
        foreach (var (name, value) in attributes)
            xml.WriteAttributeString(name, value is double d ? Format(d) : Convert.ToString(value, CultureInfo.InvariantCulture));
    }

    private static string Format(double value, int digits = 2) =>
        Math.Round(value, digits).ToString("0.######", CultureInfo.InvariantCulture);
}
