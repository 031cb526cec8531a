package main

import (
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"math"
	"os"
	"strings"
	"time"

	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"
)

var (
	colNfkit = color.RGBA{0x2e, 0x8b, 0x57, 0xff}
	colCLI   = color.RGBA{0xe0, 0x7b, 0x20, 0xff}
	colGo    = color.RGBA{0x3b, 0x6e, 0xc8, 0xff}
	colGrid  = color.RGBA{0xdd, 0xdd, 0xdd, 0xff}
	colText  = color.RGBA{0x20, 0x20, 0x20, 0xff}
)

// writeChart draws a grouped horizontal bar chart of median wall times on
// a log scale, one group per workload, one bar per peer, for the first
// scale of the run (default if it was measured).
func writeChart(name string, r *Report) error {
	scale := r.Scales[0]
	for _, s := range r.Scales {
		if s == "default" {
			scale = s
		}
	}
	var figs []Figure
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, f := range r.Figures {
		if f.Size != scale || f.Runs == 0 {
			continue
		}
		figs = append(figs, f)
		v := f.Median.Wall.Seconds()
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	const (
		left, barW, right = 300, 560, 210
		row, gap, top     = 16, 12, 56
	)
	groups := 0
	prev := ""
	for _, f := range figs {
		if f.Workload != prev {
			groups++
			prev = f.Workload
		}
	}
	h := top + len(figs)*row + groups*gap + 40
	img := image.NewRGBA(image.Rect(0, 0, left+barW+right, h))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	text := func(x, y int, c color.Color, s string) {
		d := font.Drawer{Dst: img, Src: image.NewUniform(c), Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	textRight := func(x, y int, c color.Color, s string) {
		text(x-font.MeasureString(basicfont.Face7x13, s).Round(), y, c, s)
	}
	text(10, 18, colText, fmt.Sprintf("nfbench, scale %s: median wall time, log scale (shorter is faster)", scale))
	legend := 10
	for _, l := range []struct {
		c color.Color
		s string
	}{{colNfkit, "nfkit"}, {colCLI, "CLI tool"}, {colGo, "other Go library"}} {
		draw.Draw(img, image.Rect(legend, 28, legend+12, 40), image.NewUniform(l.c), image.Point{}, draw.Src)
		text(legend+16, 38, colText, l.s)
		legend += 30 + 7*len(l.s)
	}
	if len(figs) == 0 {
		text(10, top+20, colText, "no figures")
		return savePNG(name, img)
	}
	// Whole decades around the data.
	dlo, dhi := math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
	if dhi <= dlo {
		dhi = dlo + 1
	}
	xOf := func(sec float64) int {
		return left + int(float64(barW)*(math.Log10(sec)-dlo)/(dhi-dlo))
	}
	for d := dlo; d <= dhi; d++ {
		x := xOf(math.Pow(10, d))
		draw.Draw(img, image.Rect(x, top-4, x+1, h-30), image.NewUniform(colGrid), image.Point{}, draw.Src)
		lbl := asciiDur(time.Duration(math.Pow(10, d) * 1e9))
		text(x-font.MeasureString(basicfont.Face7x13, lbl).Round()/2, h-14, colText, lbl)
	}
	y := top
	prev = ""
	for _, f := range figs {
		if f.Workload != prev {
			if prev != "" {
				y += gap
			}
			prev = f.Workload
			text(6, y+12, colText, f.Workload+partMark(r, f))
		}
		c := colGo
		switch f.Kind {
		case "nfkit":
			c = colNfkit
		case "cli":
			c = colCLI
		}
		textRight(left-8, y+12, colText, f.Peer)
		x1 := max(xOf(f.Median.Wall.Seconds()), left+2)
		draw.Draw(img, image.Rect(left, y+2, x1, y+row-2), image.NewUniform(c), image.Point{}, draw.Src)
		lbl := asciiDur(f.Median.Wall)
		if f.Median.Factor > 1 {
			lbl += "*"
		}
		if f.Kind != "nfkit" && f.Ratio > 0 {
			lbl += "  nfkit/peer " + fmtRatio(f.Ratio)
		}
		text(x1+4, y+12, colText, lbl)
		y += row
	}
	return savePNG(name, img)
}

func savePNG(name string, img image.Image) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	if err := png.Encode(f, img); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// asciiDur is fmtDur for the bitmap font, which has no µ.
func asciiDur(d time.Duration) string {
	return strings.ReplaceAll(fmtDur(d), "µs", "us")
}
