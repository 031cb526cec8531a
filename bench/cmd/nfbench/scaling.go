package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"math"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

// scalingRow is one peer's per-unit wall time at each size of a workload.
type scalingRow struct {
	peer, kind string
	per        map[string]time.Duration // size -> wall per unit
	star       map[string]bool          // extrapolated
}

// scalingData groups the measured figures by workload (in report order),
// keeping only workloads measured at two sizes or more.
func scalingData(r *Report) (names []string, rows map[string][]*scalingRow, sizesOf map[string][]string) {
	rows = map[string][]*scalingRow{}
	sizesOf = map[string][]string{}
	byPeer := map[string]map[string]*scalingRow{}
	var all []string
	for _, f := range r.Figures {
		if f.Runs == 0 || f.Err != "" || f.Units == 0 {
			continue
		}
		if byPeer[f.Workload] == nil {
			byPeer[f.Workload] = map[string]*scalingRow{}
			all = append(all, f.Workload)
		}
		row := byPeer[f.Workload][f.Peer]
		if row == nil {
			row = &scalingRow{peer: f.Peer, kind: f.Kind, per: map[string]time.Duration{}, star: map[string]bool{}}
			byPeer[f.Workload][f.Peer] = row
			rows[f.Workload] = append(rows[f.Workload], row)
		}
		row.per[f.Size] = f.Median.Wall / time.Duration(f.Units)
		row.star[f.Size] = f.Median.Factor > 1
	}
	for _, w := range all {
		for _, sn := range r.Scales {
			for _, row := range rows[w] {
				if _, ok := row.per[sn]; ok {
					sizesOf[w] = append(sizesOf[w], sn)
					break
				}
			}
		}
		if len(sizesOf[w]) >= 2 {
			names = append(names, w)
		}
	}
	return names, rows, sizesOf
}

// workloadMarks: the [VM] mark of workloads measured in a merged part.
func workloadMarks(r *Report) map[string]string {
	marks := map[string]string{}
	for _, f := range r.Figures {
		if m := partMark(r, f); m != "" && f.Runs > 0 {
			marks[f.Workload] = m
		}
	}
	return marks
}

// unitOf is the unit a workload's figures are counted in.
func unitOf(r *Report, w string) (unit string, single bool) {
	for _, f := range r.Figures {
		if f.Workload == w {
			u := strings.TrimSuffix(f.Unit, "s")
			if strings.HasSuffix(f.Unit, "ies") {
				u = strings.TrimSuffix(f.Unit, "ies") + "y"
			}
			return u, f.Units == 1
		}
	}
	return "unit", false
}

// scalingMarkdown is one table per workload: wall time per unit at each
// size, and how much the per-unit cost grew from the smallest to the
// largest size measured (x1.0 = linear total cost).
func scalingMarkdown(r *Report) string {
	names, rows, sizesOf := scalingData(r)
	if len(names) == 0 {
		return ""
	}
	var sb strings.Builder
	sb.WriteString("\n### Scaling: wall time per unit at each size\n\n")
	sb.WriteString("Each size is 10x the previous one. Per-unit cost that stays flat means total cost grows linearly with the size; ")
	sb.WriteString("the last column is the largest size's per-unit cost over the smallest's (x1.0 = linear, x10 = quadratic). ")
	sb.WriteString("Workloads that make one change (nft/one-rule, iptables/noflush-change) show the time of that one change, made in a ruleset 10x larger at each size.\n")
	marks := workloadMarks(r)
	for _, w := range names {
		unit, single := unitOf(r, w)
		if single {
			fmt.Fprintf(&sb, "\n#### %s%s: time for the one change\n\n", w, marks[w])
		} else {
			fmt.Fprintf(&sb, "\n#### %s%s: wall time per %s\n\n", w, marks[w], unit)
		}
		ss := sizesOf[w]
		sb.WriteString("| peer |")
		for _, sn := range ss {
			fmt.Fprintf(&sb, " %s |", sn)
		}
		fmt.Fprintf(&sb, " %s/%s |\n|---|%s---:|\n", ss[len(ss)-1], ss[0], strings.Repeat("---:|", len(ss)))
		for _, row := range rows[w] {
			name := row.peer
			if row.kind == "nfkit" {
				name = "**nfkit**"
			}
			fmt.Fprintf(&sb, "| %s |", name)
			var first, last time.Duration
			for _, sn := range ss {
				d, ok := row.per[sn]
				if !ok {
					sb.WriteString(" - |")
					continue
				}
				if first == 0 {
					first = d
				}
				last = d
				star := ""
				if row.star[sn] {
					star = "*"
				}
				fmt.Fprintf(&sb, " %s%s |", fmtDur(d), star)
			}
			growth := "-"
			if first > 0 && len(row.per) >= 2 {
				growth = fmtGrowth(float64(last) / float64(first))
			}
			fmt.Fprintf(&sb, " %s |\n", growth)
		}
	}
	return sb.String()
}

func fmtGrowth(g float64) string {
	if g >= 10 {
		return fmt.Sprintf("x%.0f", g)
	}
	return fmt.Sprintf("x%.2f", g)
}

// peerColors tells apart several peers of the same kind in one panel.
var peerColors = map[string][]color.RGBA{
	"nfkit": {colNfkit},
	"cli":   {colCLI, {0xb0, 0x30, 0x30, 0xff}, {0xc0, 0x9a, 0x10, 0xff}},
	"go":    {colGo, {0x80, 0x50, 0xc0, 0xff}, {0x20, 0x9a, 0xb0, 0xff}},
}

// writeScalingChart draws one panel per workload measured at two sizes or
// more: wall time per unit (log scale) against the size (10x per step),
// one line per peer. A flat line is linear total cost.
func writeScalingChart(name string, r *Report) error {
	names, rows, sizesOf := scalingData(r)
	const (
		cols         = 3
		pw, ph       = 420, 230 // panel
		ml, mr       = 62, 170  // plot margins inside a panel
		mt, mb       = 22, 26
		header, foot = 40, 8
	)
	marks := workloadMarks(r)
	nrows := max(1, (len(names)+cols-1)/cols)
	img := image.NewRGBA(image.Rect(0, 0, cols*pw, header+nrows*ph+foot))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text(img, 10, 18, colText, "nfbench scaling: wall time per unit (log scale) at each size; flat = linear total cost")
	text(img, 10, 33, colText, "green nfkit, orange/red CLI tools, blue/purple other Go libraries; * extrapolated")
	if len(names) == 0 {
		text(img, 10, header+20, colText, "no workload measured at two sizes or more")
		return savePNG(name, img)
	}
	for i, w := range names {
		x0, y0 := (i%cols)*pw, header+(i/cols)*ph
		ss := sizesOf[w]
		unit, single := unitOf(r, w)
		title := w + marks[w] + " per " + unit
		if single {
			title = w + marks[w] + " (one change)"
		}
		text(img, x0+8, y0+14, colText, title)
		lo, hi := math.Inf(1), math.Inf(-1)
		for _, row := range rows[w] {
			for _, d := range row.per {
				lo, hi = math.Min(lo, d.Seconds()), math.Max(hi, d.Seconds())
			}
		}
		dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if dhi <= dlo {
			dhi = dlo + 1
		}
		px0, px1 := x0+ml, x0+pw-mr
		py0, py1 := y0+mt, y0+ph-mb
		yOf := func(sec float64) int {
			return py1 - int(float64(py1-py0)*(math.Log10(sec)-dlo)/(dhi-dlo))
		}
		xOf := func(k int) int {
			if len(ss) == 1 {
				return (px0 + px1) / 2
			}
			return px0 + 10 + k*(px1-px0-20)/(len(ss)-1)
		}
		grid := image.NewUniform(colGrid)
		for d := dlo; d <= dhi; d++ {
			y := yOf(math.Pow(10, d))
			draw.Draw(img, image.Rect(px0, y, px1, y+1), grid, image.Point{}, draw.Src)
			lbl := asciiDur(time.Duration(math.Pow(10, d) * 1e9))
			text(img, px0-6-font.MeasureString(basicfont.Face7x13, lbl).Round(), y+4, colText, lbl)
		}
		for k, sn := range ss {
			x := xOf(k)
			draw.Draw(img, image.Rect(x, py0, x+1, py1), grid, image.Point{}, draw.Src)
			text(img, x-font.MeasureString(basicfont.Face7x13, sn).Round()/2, py1+16, colText, sn)
		}
		used := map[string]int{}
		var labels []int
		for _, row := range rows[w] {
			pal := peerColors[row.kind]
			if pal == nil {
				pal = peerColors["go"]
			}
			c := pal[used[row.kind]%len(pal)]
			used[row.kind]++
			px, py, have := 0, 0, false
			for k, sn := range ss {
				d, ok := row.per[sn]
				if !ok {
					have = false
					continue
				}
				x, y := xOf(k), yOf(d.Seconds())
				if have {
					line(img, px, py, x, y, c)
					line(img, px, py+1, x, y+1, c)
				}
				draw.Draw(img, image.Rect(x-3, y-3, x+4, y+4), image.NewUniform(c), image.Point{}, draw.Src)
				px, py, have = x, y, true
			}
			if have {
				ly := py + 4
				for _, l := range labels {
					if ly > l-12 && ly < l+12 {
						ly = l + 12
					}
				}
				labels = append(labels, ly)
				lbl := row.peer
				if row.star[ss[len(ss)-1]] {
					lbl += "*"
				}
				text(img, px1+6, ly, c, lbl)
			}
		}
	}
	return savePNG(name, img)
}

// line draws a straight line (Bresenham).
func line(img *image.RGBA, x0, y0, x1, y1 int, c color.Color) {
	dx, dy := abs(x1-x0), -abs(y1-y0)
	sx, sy := 1, 1
	if x0 > x1 {
		sx = -1
	}
	if y0 > y1 {
		sy = -1
	}
	e := dx + dy
	for {
		img.Set(x0, y0, c)
		if x0 == x1 && y0 == y1 {
			return
		}
		e2 := 2 * e
		if e2 >= dy {
			e += dy
			x0 += sx
		}
		if e2 <= dx {
			e += dx
			y0 += sy
		}
	}
}

// text draws s with its baseline at (x, y).
func text(img draw.Image, x, y int, c color.Color, s string) {
	d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
	d.DrawString(s)
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
