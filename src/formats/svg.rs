//! A tiny SVG writer: rectangles, lines, polylines and text, plus the two charts the project
//! draws (a line chart with axes, ticks and labels; a coloured grid of numbers).
//!
//! Book chapter: "Looking inside". SVG is XML text a browser draws, so a chart is just a
//! string: `<svg width=… height=…>` around shapes in pixel coordinates, y growing downwards.
//!
//! A chart's data may hold NaN or infinite values (a training log of a run that diverged):
//! they are left out of the axes' range, and a series' line breaks where they stand, so no
//! coordinate in the document is ever NaN.
//!
//! Left out: everything else SVG can do (paths, gradients, styles, fonts beyond the default
//! sans-serif), logarithmic axes and legends outside the plot area.

use std::fmt::Write;

/// An SVG document being built; [`Svg::finish`] returns its text.
#[derive(Clone, Debug)]
pub struct Svg {
    width: f64,
    height: f64,
    body: String,
}

/// Escapes the five XML special characters in text content and attribute values.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

impl Svg {
    /// An empty `width × height` drawing with a white background.
    pub fn new(width: f64, height: f64) -> Self {
        let mut svg = Svg {
            width,
            height,
            body: String::new(),
        };
        svg.rect(0.0, 0.0, width, height, "white");
        svg
    }

    /// A filled rectangle with its top-left corner at (x, y).
    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{x:.1}" y="{y:.1}" width="{w:.1}" height="{h:.1}" fill="{}"/>"#,
            escape(fill)
        );
    }

    /// A straight line from (x1, y1) to (x2, y2).
    pub fn line(&mut self, (x1, y1): (f64, f64), (x2, y2): (f64, f64), stroke: &str, width: f64) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{x1:.1}" y1="{y1:.1}" x2="{x2:.1}" y2="{y2:.1}" stroke="{}" stroke-width="{width}"/>"#,
            escape(stroke)
        );
    }

    /// Connected line segments through `points`, unfilled.
    pub fn polyline(&mut self, points: &[(f64, f64)], stroke: &str, width: f64) {
        let coords: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{x:.1},{y:.1}"))
            .collect();
        let _ = writeln!(
            self.body,
            r#"<polyline points="{}" fill="none" stroke="{}" stroke-width="{width}"/>"#,
            coords.join(" "),
            escape(stroke)
        );
    }

    /// Text at (x, y) (its baseline); `anchor` is "start", "middle" or "end".
    pub fn text(&mut self, (x, y): (f64, f64), size: f64, anchor: &str, fill: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x:.1}" y="{y:.1}" font-family="sans-serif" font-size="{size}" text-anchor="{anchor}" fill="{}">{}</text>"#,
            escape(fill),
            escape(text)
        );
    }

    /// Text rotated 90° anticlockwise about (x, y), for a y-axis label.
    pub fn text_vertical(&mut self, (x, y): (f64, f64), size: f64, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text transform="translate({x:.1} {y:.1}) rotate(-90)" font-family="sans-serif" font-size="{size}" text-anchor="middle">{}</text>"#,
            escape(text)
        );
    }

    /// The finished document.
    pub fn finish(self) -> String {
        format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\">\n{}</svg>\n",
            self.body,
            w = self.width,
            h = self.height
        )
    }
}

/// One line on a [`LineChart`].
#[derive(Clone, Debug)]
pub struct Series {
    /// Legend text.
    pub name: String,
    /// Any SVG colour.
    pub colour: String,
    /// (x, y) points in data units, in drawing order.
    pub points: Vec<(f64, f64)>,
}

/// A line chart: title, axis labels and one or more series.
#[derive(Clone, Debug)]
pub struct LineChart {
    /// Above the plot.
    pub title: String,
    /// Under the x axis.
    pub x_label: String,
    /// Beside the y axis.
    pub y_label: String,
    /// The lines.
    pub series: Vec<Series>,
}

/// Tick positions for the range [lo, hi]: about `target` ticks at a "nice" step (1, 2 or 5
/// times a power of ten), all inside the range.
pub fn nice_ticks(lo: f64, hi: f64, target: usize) -> Vec<f64> {
    if hi <= lo || !lo.is_finite() || !hi.is_finite() {
        return vec![lo];
    }
    let raw = (hi - lo) / target.max(1) as f64;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * power)
        .find(|&s| s >= raw)
        .unwrap_or(10.0 * power);
    let first = (lo / step).ceil() as i64;
    let last = (hi / step + 1e-9).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// Formats a tick value with just enough decimals for `step`.
fn tick_label(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    format!("{v:.decimals$}")
}

/// True for a point whose coordinates are both finite, so it can be drawn.
fn is_finite(&(x, y): &(f64, f64)) -> bool {
    x.is_finite() && y.is_finite()
}

/// The runs of finite points in `points`, in order: the pieces of a line broken at every
/// NaN or infinite point.
fn finite_runs(points: &[(f64, f64)]) -> impl Iterator<Item = &[(f64, f64)]> {
    points
        .split(|p| !is_finite(p))
        .filter(|run| !run.is_empty())
}

/// The data range of every series' finite x and y, padded when flat.
fn bounds(series: &[Series]) -> (f64, f64, f64, f64) {
    let pts = series
        .iter()
        .flat_map(|s| s.points.iter().filter(|p| is_finite(p)));
    let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
    for &(x, y) in pts {
        (x0, x1, y0, y1) = (x0.min(x), x1.max(x), y0.min(y), y1.max(y));
    }
    if x0 > x1 {
        return (0.0, 1.0, 0.0, 1.0);
    }
    let pad = |lo: f64, hi: f64| {
        if hi - lo < 1e-12 {
            (lo - 0.5, hi + 0.5)
        } else {
            (lo, hi)
        }
    };
    let (x0, x1) = pad(x0, x1);
    let (y0, y1) = pad(y0, y1);
    // A little headroom above and below so lines do not run along the frame.
    let margin = (y1 - y0) * 0.05;
    (x0, x1, y0 - margin, y1 + margin)
}

impl Svg {
    /// Draws `chart` in the rectangle (x, y, w, h): frame, ticks with labels on both axes,
    /// axis labels, title, one polyline per series and a legend in the top-right corner.
    pub fn line_chart(&mut self, (x, y, w, h): (f64, f64, f64, f64), chart: &LineChart) {
        let (left, right, top, bottom) = (x + 60.0, x + w - 15.0, y + 30.0, y + h - 45.0);
        let (x0, x1, y0, y1) = bounds(&chart.series);
        let sx = |v: f64| left + (v - x0) / (x1 - x0) * (right - left);
        let sy = |v: f64| bottom - (v - y0) / (y1 - y0) * (bottom - top);
        self.text(
            (x + w / 2.0, y + 18.0),
            15.0,
            "middle",
            "black",
            &chart.title,
        );
        for (ticks, vertical) in [
            (nice_ticks(x0, x1, 8), true),
            (nice_ticks(y0, y1, 6), false),
        ] {
            let step = if ticks.len() > 1 {
                ticks[1] - ticks[0]
            } else {
                1.0
            };
            for &t in &ticks {
                let label = tick_label(t, step);
                if vertical {
                    self.line((sx(t), top), (sx(t), bottom), "#e4e4e4", 1.0);
                    self.text((sx(t), bottom + 16.0), 11.0, "middle", "#333", &label);
                } else {
                    self.line((left, sy(t)), (right, sy(t)), "#e4e4e4", 1.0);
                    self.text((left - 6.0, sy(t) + 4.0), 11.0, "end", "#333", &label);
                }
            }
        }
        self.line((left, bottom), (right, bottom), "black", 1.0);
        self.line((left, top), (left, bottom), "black", 1.0);
        self.text(
            ((left + right) / 2.0, y + h - 10.0),
            12.0,
            "middle",
            "black",
            &chart.x_label,
        );
        self.text_vertical((x + 15.0, (top + bottom) / 2.0), 12.0, &chart.y_label);
        // The legend goes top-right unless a line passes through that corner, then bottom-right.
        let legend_h = 16.0 * chart.series.len() as f64 + 6.0;
        let crowded = chart
            .series
            .iter()
            .flat_map(|s| s.points.iter().filter(|p| is_finite(p)))
            .any(|&(px, py)| sx(px) > right - 160.0 && sy(py) < top + legend_h);
        let legend_top = if crowded { bottom - legend_h } else { top };
        for (i, s) in chart.series.iter().enumerate() {
            for run in finite_runs(&s.points) {
                let points: Vec<(f64, f64)> =
                    run.iter().map(|&(px, py)| (sx(px), sy(py))).collect();
                self.polyline(&points, &s.colour, 2.0);
            }
            let ly = legend_top + 14.0 + 16.0 * i as f64;
            self.line(
                (right - 150.0, ly - 4.0),
                (right - 130.0, ly - 4.0),
                &s.colour,
                3.0,
            );
            self.text((right - 125.0, ly), 11.0, "start", "black", &s.name);
        }
    }

    /// Draws a grid of counts at (x, y), `cell` pixels per square, each square shaded by its
    /// `shade(row, col, value)` colour, with `row_labels` down the left and `col_labels`
    /// across the top. `values`: (rows, cols).
    pub fn count_grid(
        &mut self,
        (x, y): (f64, f64),
        cell: f64,
        values: &[Vec<usize>],
        labels: (&[String], &[String]),
        shade: impl Fn(usize, usize, usize) -> String,
    ) {
        let (row_labels, col_labels) = labels;
        for (j, label) in col_labels.iter().enumerate() {
            let cx = x + (j as f64 + 0.5) * cell;
            self.text((cx, y - 6.0), 12.0, "middle", "black", label);
        }
        for (i, row) in values.iter().enumerate() {
            let cy = y + i as f64 * cell;
            if let Some(label) = row_labels.get(i) {
                self.text(
                    (x - 6.0, cy + cell / 2.0 + 4.0),
                    12.0,
                    "end",
                    "black",
                    label,
                );
            }
            for (j, &v) in row.iter().enumerate() {
                let fill = shade(i, j, v);
                let cx = x + j as f64 * cell;
                self.rect(cx, cy, cell - 1.0, cell - 1.0, &fill);
                let ink = if is_dark(&fill) { "white" } else { "black" };
                self.text(
                    (cx + cell / 2.0, cy + cell / 2.0 + 4.0),
                    11.0,
                    "middle",
                    ink,
                    &v.to_string(),
                );
            }
        }
    }
}

/// True for a `#rrggbb` colour dark enough that white text reads better on it.
fn is_dark(colour: &str) -> bool {
    let hex = colour.trim_start_matches('#');
    let channel =
        |i: usize| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("ff"), 16).unwrap_or(255) as f64;
    0.299 * channel(0) + 0.587 * channel(2) + 0.114 * channel(4) < 140.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_ticks_land_on_round_numbers_inside_the_range() {
        assert_eq!(
            nice_ticks(0.0, 10.0, 5),
            vec![0.0, 2.0, 4.0, 6.0, 8.0, 10.0]
        );
        assert_eq!(
            nice_ticks(1.0, 30.0, 8),
            vec![5.0, 10.0, 15.0, 20.0, 25.0, 30.0]
        );
        let t = nice_ticks(0.903, 0.958, 6);
        assert!(t.iter().all(|&v| (0.903..=0.958).contains(&v)), "{t:?}");
        assert!((t[1] - t[0] - 0.01).abs() < 1e-12, "{t:?}");
        assert_eq!(nice_ticks(3.0, 3.0, 5), vec![3.0]);
    }

    #[test]
    fn text_is_escaped_and_the_document_is_well_formed() {
        let mut svg = Svg::new(100.0, 50.0);
        svg.text((1.0, 2.0), 10.0, "start", "black", "a < b & \"c\"");
        let doc = svg.finish();
        assert!(doc.contains("a &lt; b &amp; &quot;c&quot;"));
        assert!(doc.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
        assert!(doc.trim_end().ends_with("</svg>"));
        // Every opened element is self-closed or closed: count "<" tags against closings.
        let opened = doc.matches("<text").count();
        assert_eq!(opened, doc.matches("</text>").count());
    }

    #[test]
    fn chart_maps_data_corners_to_the_plot_corners() {
        let chart = LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series {
                name: "s".into(),
                colour: "red".into(),
                points: vec![(1.0, 0.0), (3.0, 10.0)],
            }],
        };
        let mut svg = Svg::new(400.0, 300.0);
        svg.line_chart((0.0, 0.0, 400.0, 300.0), &chart);
        let doc = svg.finish();
        // y range padded 5% each side: [−0.5, 10.5] over the plot's rows 30..255 (225 px).
        // x = 1 → left 60; y = 0 → 255 − 0.5/11 · 225 = 244.8. x = 3 → 385; y = 10 → 40.2.
        assert!(doc.contains(r#"points="60.0,244.8 385.0,40.2""#), "{doc}");
    }

    #[test]
    fn non_finite_points_break_the_line_and_leave_no_nan_in_the_document() {
        let chart = LineChart {
            title: "t".into(),
            x_label: "x".into(),
            y_label: "y".into(),
            series: vec![Series {
                name: "cost".into(),
                colour: "red".into(),
                points: vec![
                    (1.0, 0.0),
                    (2.0, 5.0),
                    (3.0, f64::NAN),
                    (4.0, f64::INFINITY),
                    (5.0, 10.0),
                    (6.0, 8.0),
                    (f64::NAN, 1.0),
                ],
            }],
        };
        let mut svg = Svg::new(400.0, 300.0);
        svg.line_chart((0.0, 0.0, 400.0, 300.0), &chart);
        let doc = svg.finish();
        assert!(!doc.to_lowercase().contains("nan"), "{doc}");
        assert!(!doc.contains("inf"), "{doc}");
        // Two pieces, x 1–2 and 5–6, on an x axis from 1 to 6 that ignored the NaN point.
        assert_eq!(doc.matches("<polyline").count(), 2, "{doc}");
        assert!(doc.contains(r#"points="60.0,244.8 125.0,142.5""#), "{doc}");
    }

    #[test]
    fn dark_fills_get_white_text() {
        assert!(is_dark("#000000") && is_dark("#08306b"));
        assert!(!is_dark("#ffffff") && !is_dark("#f7fbff"));
    }
}
