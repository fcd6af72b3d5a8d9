package report

import (
	"bytes"
	"fmt"
	"html"
	"html/template"
	"image/color"
	"math"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// palette is Okabe and Ito's colour-blind-safe set, in their order.
var palette = []color.RGBA{
	{0, 114, 178, 255},   // blue
	{230, 159, 0, 255},   // orange
	{0, 158, 115, 255},   // bluish green
	{204, 121, 167, 255}, // reddish purple
	{86, 180, 233, 255},  // sky blue
	{213, 94, 0, 255},    // vermillion
	{240, 228, 66, 255},  // yellow
	{0, 0, 0, 255},       // black
}

func colour(i int) color.RGBA { return palette[i%len(palette)] }

// glyphs tell a scatter's series apart without their colours; symbols
// are the same shapes in the page's legends.
var (
	glyphs = []draw.GlyphDrawer{
		draw.CircleGlyph{}, draw.BoxGlyph{}, draw.PyramidGlyph{}, draw.RingGlyph{},
		draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}, draw.PlusGlyph{},
	}
	symbols = []string{"●", "■", "▲", "○", "□", "△", "×", "+"}
)

// LegendItem is a series of a plot, as the page's legend shows it.
type LegendItem struct {
	Label  string
	Colour string // CSS hex colour
	Symbol string
}

func legendItem(i int, label string, glyph bool) LegendItem {
	c := colour(i)
	it := LegendItem{Label: label, Colour: fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B), Symbol: "■"}
	if glyph {
		it.Symbol = symbols[i%len(symbols)]
	}
	return it
}

// newPlot returns a plot whose texts are all set in Liberation Sans, the
// font whose metrics gonum measures them with and which Arial and
// Helvetica share, so that a browser without it lays the text out alike.
// Titles and legends are the page's, where long names wrap.
func newPlot(xLabel, yLabel string) *plot.Plot {
	p := plot.New()
	p.X.Label.Text, p.Y.Label.Text = xLabel, yLabel
	for _, s := range []*draw.TextStyle{&p.Title.TextStyle, &p.X.Label.TextStyle, &p.Y.Label.TextStyle,
		&p.X.Tick.Label, &p.Y.Tick.Label, &p.Legend.TextStyle} {
		s.Font.Variant = "Sans"
	}
	p.X.Tick.Label.Font.Size = vg.Points(10)
	return p
}

// barGroup is one series of a bar chart: a value per category (NaN where
// it has none), with optional interval bounds.
type barGroup struct {
	Label     string
	Values    []float64
	Low, High []float64 // nil, or the bounds of each value's interval
}

// barChart draws categories along x, one bar per group side by side in
// each, on a y axis from yMin to yMax (grown to fit the data), and
// returns it with its legend (none for one group).
func barChart(label, yLabel string, categories []string, groups []barGroup, yMin, yMax float64) (template.HTML, []LegendItem, error) {
	p := newPlot("", yLabel)
	p.NominalX(categories...)
	p.X.Min, p.X.Max = -0.5, float64(len(categories))-0.5
	p.Y.Min, p.Y.Max = yMin, yMax
	if long(categories) {
		p.X.Tick.Label.Rotation = math.Pi / 7
		p.X.Tick.Label.XAlign = draw.XRight
		p.X.Tick.Label.YAlign = draw.YTop
	}
	const span = 0.8 // of a category's width, shared by its bars
	width := span / float64(max(len(groups), 1))
	var legend []LegendItem
	for gi, g := range groups {
		fill := colour(gi)
		if len(groups) > 1 {
			legend = append(legend, legendItem(gi, g.Label, false))
		}
		var bars plotter.XYs
		var errs plotter.YErrors
		for ci, v := range g.Values {
			if math.IsNaN(v) {
				continue
			}
			x0 := float64(ci) - span/2 + float64(gi)*width
			ring := plotter.XYs{{X: x0, Y: 0}, {X: x0 + width, Y: 0}, {X: x0 + width, Y: v}, {X: x0, Y: v}}
			poly, err := plotter.NewPolygon(ring)
			if err != nil {
				return "", nil, err
			}
			poly.Color = fill
			poly.LineStyle.Width = 0
			p.Add(poly)
			if g.Low != nil && !math.IsNaN(g.Low[ci]) {
				bars = append(bars, plotter.XY{X: x0 + width/2, Y: v})
				errs = append(errs, struct{ Low, High float64 }{v - g.Low[ci], g.High[ci] - v})
			}
			p.Y.Max = math.Max(p.Y.Max, v)
			p.Y.Min = math.Min(p.Y.Min, v)
		}
		if len(bars) > 0 {
			eb, err := plotter.NewYErrorBars(struct {
				plotter.XYs
				plotter.YErrors
			}{bars, errs})
			if err != nil {
				return "", nil, err
			}
			eb.LineStyle.Width = vg.Points(1)
			p.Add(eb)
		}
	}
	grid := plotter.NewGrid()
	grid.Vertical.Width = 0
	p.Add(grid)
	svg, err := renderSVG(p, 6.5*vg.Inch, 3*vg.Inch, label)
	return svg, legend, err
}

// long reports whether names need slanted tick labels to stay apart.
func long(names []string) bool {
	n := 0
	for _, s := range names {
		n += len([]rune(s))
	}
	return len(names) > 6 || n > 9*len(names)
}

// series is one set of points of a scatter.
type series struct {
	Label string
	XYs   plotter.XYs
}

// scatter draws each series in its own colour and glyph over the given
// ranges (grown to fit the data), and returns it with its legend.
func scatter(label, xLabel, yLabel string, ss []series, xMin, xMax, yMin, yMax float64) (template.HTML, []LegendItem, error) {
	p := newPlot(xLabel, yLabel)
	p.X.Min, p.X.Max, p.Y.Min, p.Y.Max = xMin, xMax, yMin, yMax
	p.Add(plotter.NewGrid())
	var legend []LegendItem
	for i, s := range ss {
		sc, err := plotter.NewScatter(s.XYs)
		if err != nil {
			return "", nil, err
		}
		sc.GlyphStyle.Color = colour(i)
		sc.GlyphStyle.Shape = glyphs[i%len(glyphs)]
		sc.GlyphStyle.Radius = vg.Points(3.5)
		p.Add(sc)
		legend = append(legend, legendItem(i, s.Label, true))
	}
	svg, err := renderSVG(p, 5*vg.Inch, 3.6*vg.Inch, label)
	return svg, legend, err
}

// renderSVG draws p as an SVG element to be inlined in HTML: without the
// XML prolog, with a fallback for its font and an accessible name. gonum
// escapes every text it draws.
func renderSVG(p *plot.Plot, w, h vg.Length, label string) (template.HTML, error) {
	c := vgsvg.NewWith(vgsvg.UseWH(w, h), vgsvg.EmbedFonts(false))
	p.Draw(draw.New(c))
	var buf bytes.Buffer
	if _, err := c.WriteTo(&buf); err != nil {
		return "", fmt.Errorf("plot %q: %w", label, err)
	}
	s := buf.String()
	start := strings.Index(s, "<svg ")
	if start < 0 {
		return "", fmt.Errorf("plot %q: the SVG writer's output has no <svg> element", label)
	}
	s = `<svg class="plot" role="img" aria-label="` + html.EscapeString(label) + `" ` + s[start+len("<svg "):]
	s = strings.ReplaceAll(s, "font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;")
	return template.HTML(strings.TrimSpace(s)), nil
}
