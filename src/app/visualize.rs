//! Pictures of what a trained network learned: its first layer's "chunks", each output's
//! input-space template, the learning curve, the confusion matrix and the mistakes it makes.
//!
//! Book chapter: "Looking inside". Each first-hidden-layer neuron j computes
//! σ(Σᵢ W²ⱼᵢ aᵢ + bⱼ): a weighted sum over the 784 pixels, so its 784 weights, laid out as a
//! 28×28 picture, show which pixels push it on (red) and which push it off (blue). Without the
//! σ between layers the network would be one linear map, W⁴W³W² = W⁵ (the write-up's
//! argument); drawing the rows of that product shows, roughly, what each output neuron looks
//! for in input space. The sigmoids make this an approximation, which is why it is only a
//! picture and not the network.
//!
//! Raster pictures are drawn on a [`Canvas`] and saved with [`crate::formats::png`]; labels use a
//! 3×5-pixel font built in below. Charts are SVG from [`crate::formats::svg`]. Images of any
//! rows × cols are drawn as they are (MNIST's are 28 × 28), and classes are named as the data
//! names them ([`Classes`]: the digits, or `classes.txt`). Every picture has a bounded size:
//! at most [`MAX_CHUNKS`] first-layer neurons are drawn, each tile is about
//! [`TILE_PIXELS`] wide whatever the images' size, and a template is computed from the output
//! side, so no intermediate is larger than a weight matrix.
//!
//! Left out: deeper-layer feature visualisation by optimisation, saliency maps, animation.

use crate::data::classes::Classes;
use crate::data::mnist::DataSet;
use crate::data::shape::Shape;
use crate::formats::output;
use crate::formats::png::{self, Image};
use crate::formats::saved::Model;
use crate::formats::svg::{LineChart, Series, Svg};
use crate::linalg::{Matrix, Scalar};
use crate::network::Network;
use crate::{Error, Result};
use std::path::{Path, PathBuf};

pub mod conv;

/// The most first-hidden-layer neurons `chunks.png` draws (the first ones): 400, 80 rows of 5
/// tiles, about 20 MB of canvas for MNIST. A wider layer is drawn in part
/// ([`chunks_drawn`] says how many).
pub const MAX_CHUNKS: usize = 400;

/// About how wide a heat-map tile is drawn, in canvas pixels: 28 × 4 for MNIST. Larger images
/// are drawn at a smaller zoom, at least 1.
pub const TILE_PIXELS: usize = 112;

/// The zoom that makes a `rows × cols` image about `pixels` wide (at least 1).
fn zoom_for((rows, cols): (usize, usize), pixels: usize) -> usize {
    (pixels / rows.max(cols)).max(1)
}

/// An RGB raster to draw on.
#[derive(Clone, Debug)]
pub struct Canvas {
    /// Pixels per row.
    pub width: usize,
    /// Rows.
    pub height: usize,
    /// (height, width, 3) bytes.
    pub rgb: Vec<u8>,
}

/// 3×5 glyphs, one row of 3 bits per byte (bit 2 = left column). Lower-case letters are drawn
/// as capitals.
const FONT: [(char, [u8; 5]); 43] = [
    ('0', [7, 5, 5, 5, 7]),
    ('1', [2, 6, 2, 2, 7]),
    ('2', [7, 1, 7, 4, 7]),
    ('3', [7, 1, 7, 1, 7]),
    ('4', [5, 5, 7, 1, 1]),
    ('5', [7, 4, 7, 1, 7]),
    ('6', [7, 4, 7, 5, 7]),
    ('7', [7, 1, 1, 1, 1]),
    ('8', [7, 5, 7, 5, 7]),
    ('9', [7, 5, 7, 1, 7]),
    ('%', [5, 1, 2, 4, 5]),
    ('>', [4, 2, 1, 2, 4]),
    ('-', [0, 0, 7, 0, 0]),
    (':', [0, 2, 0, 2, 0]),
    ('.', [0, 0, 0, 0, 2]),
    (' ', [0, 0, 0, 0, 0]),
    ('/', [1, 1, 2, 4, 4]),
    ('A', [2, 5, 7, 5, 5]),
    ('B', [6, 5, 6, 5, 6]),
    ('C', [3, 4, 4, 4, 3]),
    ('D', [6, 5, 5, 5, 6]),
    ('E', [7, 4, 6, 4, 7]),
    ('F', [7, 4, 6, 4, 4]),
    ('G', [3, 4, 5, 5, 3]),
    ('H', [5, 5, 7, 5, 5]),
    ('I', [7, 2, 2, 2, 7]),
    ('J', [1, 1, 1, 5, 2]),
    ('K', [5, 5, 6, 5, 5]),
    ('L', [4, 4, 4, 4, 7]),
    ('M', [5, 7, 7, 5, 5]),
    ('N', [6, 5, 5, 5, 5]),
    ('O', [2, 5, 5, 5, 2]),
    ('P', [6, 5, 6, 4, 4]),
    ('Q', [2, 5, 5, 6, 3]),
    ('R', [6, 5, 6, 5, 5]),
    ('S', [3, 4, 2, 1, 6]),
    ('T', [7, 2, 2, 2, 2]),
    ('U', [5, 5, 5, 5, 7]),
    ('V', [5, 5, 5, 5, 2]),
    ('W', [5, 5, 7, 7, 5]),
    ('X', [5, 5, 2, 5, 5]),
    ('Y', [5, 5, 2, 2, 2]),
    ('Z', [7, 1, 2, 4, 7]),
];

impl Canvas {
    /// A `width × height` canvas filled with `background`.
    pub fn new(width: usize, height: usize, background: [u8; 3]) -> Self {
        Canvas {
            width,
            height,
            rgb: background.repeat(width * height),
        }
    }

    /// Sets one pixel; points off the canvas are ignored.
    pub fn set(&mut self, x: usize, y: usize, colour: [u8; 3]) {
        if x < self.width && y < self.height {
            let i = 3 * (y * self.width + x);
            self.rgb[i..i + 3].copy_from_slice(&colour);
        }
    }

    /// Fills the `w × h` rectangle with its top-left corner at (x, y).
    pub fn fill_rect(&mut self, x: usize, y: usize, w: usize, h: usize, colour: [u8; 3]) {
        for yy in y..y + h {
            for xx in x..x + w {
                self.set(xx, yy, colour);
            }
        }
    }

    /// Draws a `rows × cols` grid of colours (`colour(i)` for cell i, row by row), each cell
    /// `zoom × zoom` pixels, at (x, y).
    pub fn tile(
        &mut self,
        (x, y): (usize, usize),
        (rows, cols): (usize, usize),
        zoom: usize,
        colour: impl Fn(usize) -> [u8; 3],
    ) {
        for i in 0..rows * cols {
            self.fill_rect(
                x + (i % cols) * zoom,
                y + (i / cols) * zoom,
                zoom,
                zoom,
                colour(i),
            );
        }
    }

    /// Writes `text` with the built-in 3×5 font, each font pixel `scale × scale`; characters
    /// the font lacks are drawn as blanks. Returns the width drawn.
    pub fn text(
        &mut self,
        (x, y): (usize, usize),
        text: &str,
        scale: usize,
        colour: [u8; 3],
    ) -> usize {
        for (k, c) in text.chars().enumerate() {
            let c = c.to_ascii_uppercase();
            let glyph = FONT
                .iter()
                .find(|(g, _)| *g == c)
                .map_or([0; 5], |(_, rows)| *rows);
            for (row, bits) in glyph.iter().enumerate() {
                for col in 0..3 {
                    if bits >> (2 - col) & 1 == 1 {
                        let gx = x + (4 * k + col) * scale;
                        self.fill_rect(gx, y + row * scale, scale, scale, colour);
                    }
                }
            }
        }
        text.chars().count() * 4 * scale
    }

    /// The canvas as an 8-bit RGB [`Image`] for [`png::encode`].
    pub fn into_image(self) -> Image {
        Image::new(self.width, self.height, 3, self.rgb)
    }
}

// ANCHOR: diverging
/// A diverging colour for `v` in [−1, 1]: blue for negative, white for 0, red for positive
/// (ColorBrewer's RdBu end colours); values outside the range are clamped.
pub fn diverging(v: f32) -> [u8; 3] {
    const BLUE: [f32; 3] = [33.0, 102.0, 172.0];
    const RED: [f32; 3] = [178.0, 24.0, 43.0];
    let t = v.clamp(-1.0, 1.0);
    let end = if t < 0.0 { BLUE } else { RED };
    let t = t.abs();
    [0, 1, 2].map(|c| (255.0 * (1.0 - t) + end[c] * t).round() as u8)
}
// ANCHOR_END: diverging

/// The largest |wᵢ| of a row, the scale that maps it onto [−1, 1] (1 for an all-zero row).
fn symmetric_limit(row: &[f32]) -> f32 {
    let m = row.iter().fold(0.0f32, |m, w| m.max(w.abs()));
    if m > 0.0 {
        m
    } else {
        1.0
    }
}

/// Where a grid of `count` labelled tiles goes: each tile a `shape.0 × shape.1` image drawn at
/// `zoom` under a label, `columns` tiles to a row, with gaps around them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Grid {
    /// Number of tiles.
    pub count: usize,
    /// Every tile's rows × cols, before zooming.
    pub shape: (usize, usize),
    /// Tiles per row of the grid.
    pub columns: usize,
    /// Canvas pixels per image pixel, each way.
    pub zoom: usize,
}

/// Height of a tile's label above it, and the gap around tiles, in canvas pixels.
const LABEL_HEIGHT: usize = 14;
const GAP: usize = 8;

impl Grid {
    /// Canvas pixels the grid takes across.
    pub fn width(&self) -> usize {
        GAP + self.columns * (self.shape.1 * self.zoom + GAP)
    }

    /// Canvas pixels the grid takes down.
    pub fn height(&self) -> usize {
        let rows = self.count.div_ceil(self.columns);
        GAP + rows * (LABEL_HEIGHT + self.shape.0 * self.zoom + GAP)
    }

    /// Draws the grid with its top-left corner at `origin`: tile i from `tiles[i]`'s values,
    /// row by row, value v of tile i in `colour(i, v)`, with `label(i)` above it, cut to fit.
    ///
    /// # Panics
    /// If a tile does not hold `shape.0 × shape.1` values.
    #[track_caller]
    pub fn draw(
        &self,
        canvas: &mut Canvas,
        origin: (usize, usize),
        tiles: &[&[f32]],
        label: impl Fn(usize) -> String,
        colour: impl Fn(usize, f32) -> [u8; 3],
    ) {
        let (h, w) = self.shape;
        let (tile_w, tile_h) = (w * self.zoom, h * self.zoom);
        for (i, values) in tiles.iter().enumerate() {
            assert_eq!(values.len(), h * w, "tile {i} needs {h} × {w} values");
            let x = origin.0 + GAP + (i % self.columns) * (tile_w + GAP);
            let y = origin.1 + GAP + (i / self.columns) * (LABEL_HEIGHT + tile_h + GAP);
            canvas.text((x, y), &fit(&label(i), tile_w / 8), 2, [0; 3]);
            // A thin grey frame so white edges still show where the tile ends.
            canvas.fill_rect(
                x - 1,
                y + LABEL_HEIGHT - 1,
                tile_w + 2,
                tile_h + 2,
                [190; 3],
            );
            canvas.tile((x, y + LABEL_HEIGHT), self.shape, self.zoom, |p| {
                colour(i, values[p])
            });
        }
    }
}

/// Lays out `rows` (each one image's `shape.0 × shape.1` values, e.g. 28 × 28 = 784) as
/// diverging heat maps in a grid of `columns`, each with its own symmetric colour scale (zero
/// is white) and `label(i)` above it, cut to fit the tile.
///
/// # Panics
/// If a row does not hold `shape.0 × shape.1` values.
#[track_caller]
pub fn heatmap_grid(
    rows: &[&[f32]],
    shape: (usize, usize),
    columns: usize,
    zoom: usize,
    label: impl Fn(usize) -> String,
) -> Canvas {
    let grid = Grid {
        count: rows.len(),
        shape,
        columns,
        zoom,
    };
    let mut canvas = Canvas::new(grid.width(), grid.height(), [255; 3]);
    let limits: Vec<f32> = rows.iter().map(|row| symmetric_limit(row)).collect();
    grid.draw(&mut canvas, (0, 0), rows, label, |i, v| {
        diverging(v / limits[i])
    });
    canvas
}

/// `text` cut to at most `chars` characters (at least one), so a label fits its tile.
fn fit(text: &str, chars: usize) -> String {
    text.chars().take(chars.max(1)).collect()
}

// ANCHOR: chunks
/// The first hidden layer's weights W² (n_1, 784), one 28×28 heat map per neuron (`shape`:
/// the images' rows × cols), labelled 1 … n_1: the "small chunks" the write-up hopes the
/// first layer finds. At most [`MAX_CHUNKS`] neurons, the first ones.
///
/// # Panics
/// If the network's input size is not `shape.0 × shape.1`.
#[track_caller]
pub fn chunks_image<T: Scalar>(net: &Network<T>, shape: (usize, usize)) -> Image {
    let w = &net.weights[0];
    let rows: Vec<Vec<f32>> = (0..chunks_drawn(net))
        .map(|j| w.row(j).iter().map(|v| v.to_f64() as f32).collect())
        .collect();
    let rows: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
    let zoom = zoom_for(shape, TILE_PIXELS);
    heatmap_grid(&rows, shape, 5, zoom, |j| format!("{}", j + 1)).into_image()
}
// ANCHOR_END: chunks

/// How many first-layer neurons [`chunks_image`] draws: all of them, up to [`MAX_CHUNKS`].
pub fn chunks_drawn<T: Scalar>(net: &Network<T>) -> usize {
    net.weights[0].rows().min(MAX_CHUNKS)
}

fn as_f32<T: Scalar>(m: &Matrix<T>) -> Matrix<f32> {
    Matrix::from_vec(
        m.rows(),
        m.cols(),
        m.as_slice().iter().map(|&v| v.to_f64() as f32).collect(),
    )
}

// ANCHOR: templates
/// The product of all weight matrices, Wᴸ ⋯ W³W² (n_out, 784): what the network would be
/// without its sigmoids (the write-up's W⁵). Row k is output k's template in input space.
/// `None` for a network with a single weight layer, whose W² is already that. Multiplied
/// from the output side, (Wᴸ Wᴸ⁻¹) W ⋯, so every partial product has only n_out rows.
pub fn templates<T: Scalar>(net: &Network<T>) -> Option<Matrix<f32>> {
    let (last, earlier) = net.weights.split_last()?;
    let mut product = as_f32(last);
    for w in earlier.iter().rev() {
        product = times(&product, w);
    }
    (net.weights.len() > 1).then_some(product)
}
// ANCHOR_END: templates

/// P · W for P: (k, n) and W: (n, m), row k of the product being Σⱼ Pₖⱼ · (row j of W): W is
/// read a row at a time, never copied (it may be the widest matrix of the network).
fn times<T: Scalar>(p: &Matrix<f32>, w: &Matrix<T>) -> Matrix<f32> {
    let mut out = Matrix::zeros(p.rows(), w.cols());
    for j in 0..w.rows() {
        let w_j: Vec<f32> = w.row(j).iter().map(|v| v.to_f64() as f32).collect();
        for k in 0..p.rows() {
            let p_kj = p[(k, j)];
            for (o, &v) in out.row_mut(k).iter_mut().zip(&w_j) {
                *o += p_kj * v;
            }
        }
    }
    out
}

/// [`templates`] drawn as heat maps of the images' `shape` (rows × cols), labelled with the
/// class each output stands for (a digit, or its name).
pub fn templates_image<T: Scalar>(
    net: &Network<T>,
    shape: (usize, usize),
    classes: &Classes,
) -> Option<Image> {
    let t = templates(net)?;
    let rows: Vec<&[f32]> = (0..t.rows()).map(|k| t.row(k)).collect();
    let zoom = zoom_for(shape, TILE_PIXELS);
    Some(heatmap_grid(&rows, shape, 5, zoom, |k| classes.name(k)).into_image())
}

/// One epoch's line of a training log.
#[derive(Clone, Debug, PartialEq)]
pub struct LogRow {
    /// 1-based epoch.
    pub epoch: f64,
    /// Training cost after the epoch.
    pub train_cost: Option<f64>,
    /// Validation accuracy, 0–1.
    pub validation_accuracy: Option<f64>,
    /// Test accuracy, 0–1.
    pub test_accuracy: Option<f64>,
}

/// Parses a training log CSV with header `epoch,train_cost,validation_accuracy,
/// test_accuracy,seconds` (columns found by name, empty fields allowed).
pub fn parse_log(csv: &str) -> Result<Vec<LogRow>> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .collect();
    let column = |name: &str| header.iter().position(|h| *h == name);
    let epoch = column("epoch").ok_or_else(|| {
        Error::Invalid(format!(
            "the log has no `epoch` column (header: {:?}); pass the CSV written by `scratchnet train --log`",
            header.join(",")
        ))
    })?;
    let (cost, val, test) = (
        column("train_cost"),
        column("validation_accuracy"),
        column("test_accuracy"),
    );
    lines
        .enumerate()
        .map(|(n, line)| {
            let fields: Vec<&str> = line.split(',').map(str::trim).collect();
            let get = |c: Option<usize>| {
                c.and_then(|c| fields.get(c))
                    .and_then(|f| f.parse::<f64>().ok())
            };
            Ok(LogRow {
                epoch: get(Some(epoch)).ok_or_else(|| {
                    Error::Invalid(format!("log line {}: no epoch number in {line:?}", n + 2))
                })?,
                train_cost: get(cost),
                validation_accuracy: get(val),
                test_accuracy: get(test),
            })
        })
        .collect()
}

fn series(
    rows: &[LogRow],
    name: &str,
    colour: &str,
    pick: impl Fn(&LogRow) -> Option<f64>,
) -> Option<Series> {
    let points: Vec<(f64, f64)> = rows
        .iter()
        .filter_map(|r| pick(r).map(|v| (r.epoch, v)))
        .collect();
    (!points.is_empty()).then(|| Series {
        name: name.into(),
        colour: colour.into(),
        points,
    })
}

/// The learning curve as SVG: training cost (top) and accuracy in % (bottom) per epoch.
pub fn learning_curve_svg(rows: &[LogRow]) -> String {
    let mut svg = Svg::new(640.0, 560.0);
    let cost = LineChart {
        title: "Training cost C = (1/2n) Σ‖a − y‖²".into(),
        x_label: "epoch".into(),
        y_label: "cost".into(),
        series: series(rows, "training", "#b2182b", |r| r.train_cost)
            .into_iter()
            .collect(),
    };
    let accuracy = LineChart {
        title: "Accuracy".into(),
        x_label: "epoch".into(),
        y_label: "correct (%)".into(),
        series: [
            series(rows, "validation (10,000)", "#2166ac", |r| {
                r.validation_accuracy.map(|a| 100.0 * a)
            }),
            series(rows, "test (10,000)", "#1b7837", |r| {
                r.test_accuracy.map(|a| 100.0 * a)
            }),
        ]
        .into_iter()
        .flatten()
        .collect(),
    };
    svg.line_chart((0.0, 0.0, 640.0, 280.0), &cost);
    svg.line_chart((0.0, 280.0, 640.0, 280.0), &accuracy);
    svg.finish()
}

/// Every test image's output a^L: (n_out, count), computed a batch at a time, by either kind
/// of model.
fn outputs(model: &Model, data: &DataSet) -> Matrix<f32> {
    let n_out = model.inputs_and_outputs()[1];
    let mut out = Matrix::zeros(n_out, data.len());
    let per = data.images.pixels_per_image();
    for start in (0..data.len()).step_by(1000) {
        let end = (start + 1000).min(data.len());
        // One image per column, scaled to [0, 1] as in training.
        let x = Matrix::from_fn(per, end - start, |i, k| {
            data.images.pixels[(start + k) * per + i] as f32 / 255.0
        });
        let a = model.feedforward_batch(&x);
        for k in 0..n_out {
            out.row_mut(k)[start..end].copy_from_slice(a.row(k));
        }
    }
    out
}

/// A test image the network gets wrong.
#[derive(Clone, Debug, PartialEq)]
pub struct Mistake {
    /// Index in the test set.
    pub index: usize,
    /// The true class (the digit, for MNIST).
    pub label: u8,
    /// The network's answer (its largest output).
    pub predicted: usize,
    /// The predicted output neuron's activation, 0–1 (sigmoid outputs are not
    /// probabilities, but this is how sure that neuron is).
    pub confidence: f32,
}

/// The model's predictions on `data`: the confusion matrix (true class × predicted,
/// (n_out, n_out)) and every mistake, in test-set order.
pub fn assess(model: &Model, data: &DataSet) -> (Vec<Vec<usize>>, Vec<Mistake>) {
    let a = outputs(model, data);
    let mut confusion = vec![vec![0; a.rows()]; a.rows()];
    let mut mistakes = Vec::new();
    for (index, &label) in data.labels.iter().enumerate() {
        let column = a.column(index);
        let predicted = column.argmax();
        if let Some(row) = confusion.get_mut(label as usize) {
            row[predicted] += 1;
        }
        if predicted != label as usize {
            mistakes.push(Mistake {
                index,
                label,
                predicted,
                confidence: column.as_slice()[predicted],
            });
        }
    }
    (confusion, mistakes)
}

/// The confusion matrix as a coloured SVG grid: rows true class, columns prediction; the
/// diagonal (right) in blues, off-diagonal (wrong) in reds, darker for more. Digits label
/// both; named classes label the rows `k: name` and the columns `k`.
pub fn confusion_svg(confusion: &[Vec<usize>], classes: &Classes) -> String {
    let n = confusion.len();
    let cell = 44.0;
    let noun = classes.noun();
    let row_labels: Vec<String> = (0..n)
        .map(|k| match classes.are_digits() {
            true => k.to_string(),
            false => format!("{k}: {}", classes.name(k)),
        })
        .collect();
    let col_labels: Vec<String> = (0..n).map(|k| k.to_string()).collect();
    // Room for the row labels at 12 px (about 7 px a character).
    let widest = row_labels
        .iter()
        .map(|l| l.chars().count())
        .max()
        .unwrap_or(1);
    let (x, y) = (70f64.max(40.0 + 7.0 * widest as f64), 70.0);
    let mut svg = Svg::new(x + cell * n as f64 + 20.0, y + cell * n as f64 + 20.0);
    let total: usize = confusion.iter().flatten().sum();
    let right: usize = (0..n).map(|i| confusion[i][i]).sum();
    let title = format!(
        "Confusion on the test set: {right} of {total} right ({:.2}%)",
        100.0 * right as f64 / total.max(1) as f64
    );
    svg.text(
        (x + cell * n as f64 / 2.0, 22.0),
        14.0,
        "middle",
        "black",
        &title,
    );
    svg.text(
        (x + cell * n as f64 / 2.0, 44.0),
        12.0,
        "middle",
        "#444",
        &format!("predicted {noun}"),
    );
    svg.text_vertical(
        (22.0, y + cell * n as f64 / 2.0),
        12.0,
        &format!("true {noun}"),
    );
    let max_right = (0..n).map(|i| confusion[i][i]).max().unwrap_or(1).max(1) as f32;
    let max_wrong = (0..n)
        .flat_map(|i| (0..n).filter(move |&j| j != i).map(move |j| (i, j)))
        .map(|(i, j)| confusion[i][j])
        .max()
        .unwrap_or(1)
        .max(1) as f32;
    svg.count_grid(
        (x, y),
        cell,
        confusion,
        (&row_labels, &col_labels),
        |i, j, v| {
            let [r, g, b] = if i == j {
                diverging(-(v as f32) / max_right)
            } else {
                diverging(v as f32 / max_wrong)
            };
            format!("#{r:02x}{g:02x}{b:02x}")
        },
    );
    svg.finish()
}

/// A gallery of `mistakes` (at most `max`), each image dark-on-white at about 84 pixels wide
/// (3× for MNIST) with "true>predicted confidence%" under it: digits at 2×, named classes
/// smaller, each name cut to fit.
pub fn mistakes_image(
    mistakes: &[Mistake],
    data: &DataSet,
    max: usize,
    classes: &Classes,
) -> Image {
    let shape = (data.images.rows, data.images.cols);
    let (columns, zoom) = (10, zoom_for(shape, 84));
    let (tile_w, tile_h, label_h, gap) = (shape.1 * zoom, shape.0 * zoom, 14, 10);
    let shown = &mistakes[..mistakes.len().min(max)];
    let rows = shown.len().div_ceil(columns).max(1);
    let mut canvas = Canvas::new(
        gap + columns * (tile_w + gap),
        gap + rows * (tile_h + label_h + gap),
        [255; 3],
    );
    // A glyph is 4 pixels wide at scale 1: "name>name 100%" in the tile's width.
    let (scale, name_chars) = match classes.are_digits() {
        true => (2, 1),
        false => (1, (tile_w / 4).saturating_sub(6) / 2),
    };
    for (k, m) in shown.iter().enumerate() {
        let x = gap + (k % columns) * (tile_w + gap);
        let y = gap + (k / columns) * (tile_h + label_h + gap);
        let pixels = data.images.image(m.index);
        canvas.tile((x, y), shape, zoom, |p| [255 - pixels[p]; 3]);
        let name = |class: usize| fit(&classes.name(class), name_chars);
        let (truth, guess) = (name(m.label as usize), name(m.predicted));
        let label = format!("{truth}>{guess} {:.0}%", 100.0 * m.confidence);
        canvas.text((x, y + tile_h + 3), &label, scale, [178, 24, 43]);
    }
    canvas.into_image()
}

/// Writes every picture into `out` (created if missing): for a fully connected network
/// `chunks.png` and `templates.png` (two or more weight layers), for a convolutional one
/// `kernels.png` and `feature-maps.png` (of the first test image; see [`conv`]); then
/// `confusion.svg`, `mistakes.png`, and `learning-curve.svg` when a training log's text is
/// given. `classes` names the test set's labels. Returns the paths written.
///
/// # Errors
/// [`Error::Invalid`] when the model does not fit the test images and classes (see
/// [`crate::data::shape::Shape::check_network`]), and I/O errors.
pub fn write_all(
    model: &Model,
    test: &DataSet,
    classes: &Classes,
    log: Option<&str>,
    out: &Path,
) -> Result<Vec<PathBuf>> {
    let shape = Shape::of(&test.images, classes);
    shape.check_network(&model.inputs_and_outputs(), "the model")?;
    std::fs::create_dir_all(out).map_err(|e| Error::io(out, e))?;
    let mut written = Vec::new();
    let mut save = |name: &str, bytes: Vec<u8>| -> Result<()> {
        let path = out.join(name);
        output::write_file(&path, &bytes)?;
        written.push(path);
        Ok(())
    };
    match model {
        Model::Dense(net) => {
            let tile = (shape.rows, shape.cols);
            save("chunks.png", png::encode(&chunks_image(net, tile)))?;
            if let Some(image) = templates_image(net, tile, classes) {
                save("templates.png", png::encode(&image))?;
            }
        }
        Model::Conv(net) => {
            if let Some(image) = conv::kernels_image(net) {
                save("kernels.png", png::encode(&image))?;
            }
            if !test.is_empty() {
                let image = conv::feature_maps_image(net, test.images.image(0));
                save("feature-maps.png", png::encode(&image))?;
            }
        }
    }
    if let Some(csv) = log {
        save(
            "learning-curve.svg",
            learning_curve_svg(&parse_log(csv)?).into_bytes(),
        )?;
    }
    let (confusion, mistakes) = assess(model, test);
    save(
        "confusion.svg",
        confusion_svg(&confusion, classes).into_bytes(),
    )?;
    save(
        "mistakes.png",
        png::encode(&mistakes_image(&mistakes, test, 60, classes)),
    )?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::activation::Activation;
    use crate::cost::Cost;
    use crate::data::mnist::Images;
    use crate::rng::Rng;

    #[test]
    fn diverging_is_white_at_zero_and_saturates_at_the_ends() {
        assert_eq!(diverging(0.0), [255, 255, 255]);
        assert_eq!(diverging(1.0), [178, 24, 43]);
        assert_eq!(diverging(-1.0), [33, 102, 172]);
        assert_eq!(diverging(-7.0), diverging(-1.0));
        // Halfway to red: (255 + 178) / 2 = 216.5 → 217 (round half away from zero).
        assert_eq!(diverging(0.5)[0], 217);
    }

    #[test]
    fn templates_are_the_product_of_the_weight_matrices() {
        let net: Network<f32> = Network::new(&[784, 3, 2, 4], &mut Rng::new(3));
        let t = templates(&net).unwrap();
        assert_eq!(t.shape(), (4, 784));
        // Entry (k, i) by hand: Σ_j Σ_m W4[k][m] W3[m][j] W2[j][i].
        let (w2, w3, w4) = (&net.weights[0], &net.weights[1], &net.weights[2]);
        for (k, i) in [(0, 0), (3, 500), (2, 783)] {
            let mut sum = 0.0f64;
            for m in 0..2 {
                for j in 0..3 {
                    sum += (w4.row(k)[m] * w3.row(m)[j] * w2.row(j)[i]) as f64;
                }
            }
            assert!((t.row(k)[i] as f64 - sum).abs() < 1e-4, "({k},{i})");
        }
        let single: Network<f32> = Network::new(&[784, 10], &mut Rng::new(3));
        assert!(templates(&single).is_none());
    }

    #[test]
    fn heat_map_pixels_follow_the_weights() {
        // One row: weight +2 at pixel 0, −1 at pixel 1, 0 elsewhere; limit 2.
        let mut row = vec![0.0f32; 784];
        row[0] = 2.0;
        row[1] = -1.0;
        let canvas = heatmap_grid(&[&row], (28, 28), 1, 1, |_| String::new());
        let px = |x: usize, y: usize| canvas.rgb[3 * (y * canvas.width + x)..][..3].to_vec();
        // Tiles start at (gap 8, gap 8 + label 14).
        assert_eq!(px(8, 22), diverging(1.0).to_vec());
        assert_eq!(px(9, 22), diverging(-0.5).to_vec());
        assert_eq!(px(10, 22), vec![255, 255, 255]);
    }

    #[test]
    fn a_wide_first_layer_draws_its_first_neurons_only() {
        // What this guards against: one tile per neuron, so 2²⁰ neurons asked for a 49 GB canvas.
        let net: Network<f32> = Network::new(&[6, 1000, 10], &mut Rng::new(1));
        assert_eq!(chunks_drawn(&net), MAX_CHUNKS);
        let image = chunks_image(&net, (2, 3));
        // 80 rows of 5 tiles, each 2 × 3 pixels at zoom 37 under a 14-pixel label.
        assert_eq!(image.height, 8 + 80 * (14 + 2 * 37 + 8));
    }

    #[test]
    fn named_classes_label_the_pictures_and_nothing_says_digit() {
        let classes = Classes::parse(b"cat\ndog", "c").unwrap();
        let svg = confusion_svg(&[vec![3, 1], vec![0, 4]], &classes);
        assert!(
            svg.contains(">0: cat<") && svg.contains(">true class<"),
            "{svg}"
        );
        assert!(!svg.contains("digit"), "{svg}");
        let net: Network<f32> = Network::new(&[784, 3, 2], &mut Rng::new(3));
        let mut with = templates_image(&net, (28, 28), &classes).unwrap();
        let mut without = templates_image(&net, (28, 28), &Classes::digits()).unwrap();
        // The label rows differ ("CAT" against "0"), the heat maps do not.
        let label_bytes = 3 * with.width * 22;
        assert_ne!(with.pixels[..label_bytes], without.pixels[..label_bytes]);
        with.pixels.drain(..label_bytes);
        without.pixels.drain(..label_bytes);
        assert_eq!(with.pixels, without.pixels);
    }

    #[test]
    fn font_draws_a_one_as_its_bitmap() {
        let mut canvas = Canvas::new(3, 5, [255; 3]);
        canvas.text((0, 0), "1", 1, [0; 3]);
        let ink: Vec<u8> = canvas.rgb.chunks(3).map(|p| (p[0] == 0) as u8).collect();
        assert_eq!(ink, vec![0, 1, 0, 1, 1, 0, 0, 1, 0, 0, 1, 0, 1, 1, 1]);
    }

    #[test]
    fn log_parses_by_column_name_and_rejects_a_foreign_file() {
        let csv = "epoch,train_cost,validation_accuracy,test_accuracy,seconds\n1,0.05,0.9,,3.2\n2,0.04,0.92,0.91,3.1\n";
        let rows = parse_log(csv).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].test_accuracy, None);
        assert_eq!(rows[1].test_accuracy, Some(0.91));
        let svg = learning_curve_svg(&rows);
        assert_eq!(svg.matches("<polyline").count(), 3);
        assert!(parse_log("a,b\n1,2\n").is_err());
        assert!(parse_log("epoch,x\nnope,1\n").is_err());
    }

    /// Four 28×28 "images": blank, blank, full, full, labelled 0, 1, 1, 0.
    fn tiny_set() -> DataSet {
        let mut pixels = vec![0u8; 2 * 784];
        pixels.extend(vec![255u8; 2 * 784]);
        let images = Images {
            count: 4,
            rows: 28,
            cols: 28,
            pixels,
        };
        DataSet::new(images, vec![0, 1, 1, 0]).unwrap()
    }

    #[test]
    fn confusion_and_mistakes_match_a_hand_built_network() {
        // One layer, two outputs: output 1 = σ(Σ pixels · 0.01 − 5) rises with ink, output 0 is
        // σ(0) = 0.5. Blank → 0 (output 1 = σ(−5)); full → 1 (σ(784·0.01−5) = σ(2.84) ≈ 0.945).
        let w = Matrix::from_fn(2, 784, |k, _| if k == 1 { 0.01 } else { 0.0 });
        let b = crate::linalg::Vector::from_vec(vec![0.0, -5.0]);
        let net = Network::from_parameters(
            vec![w],
            vec![b],
            Activation::Sigmoid,
            Activation::Sigmoid,
            Cost::Quadratic,
        );
        let (confusion, mistakes) = assess(&Model::Dense(net), &tiny_set());
        // Images: (0, blank) right, (1, blank) → 0, (1, full) right, (0, full) → 1.
        assert_eq!(confusion, vec![vec![1, 1], vec![1, 1]]);
        let indices: Vec<(usize, u8, usize)> = mistakes
            .iter()
            .map(|m| (m.index, m.label, m.predicted))
            .collect();
        assert_eq!(indices, vec![(1, 1, 0), (3, 0, 1)]);
        assert!((mistakes[0].confidence - 0.5).abs() < 1e-6);
        assert!((mistakes[1].confidence - 0.9448).abs() < 1e-3);
    }

    #[test]
    fn write_all_writes_pictures_that_decode() {
        let net: Network<f32> = Network::new(&[784, 4, 3, 10], &mut Rng::new(1));
        let dir = std::env::temp_dir().join(format!("scratchnet-visualize-{}", std::process::id()));
        let log = "epoch,train_cost,validation_accuracy,test_accuracy,seconds\n1,0.1,0.5,0.5,1\n";
        let classes = Classes::digits();
        let written =
            write_all(&Model::Dense(net), &tiny_set(), &classes, Some(log), &dir).unwrap();
        assert_eq!(written.len(), 5);
        for path in &written {
            let bytes = std::fs::read(path).unwrap();
            if path.extension().unwrap() == "png" {
                png::decode(&bytes).unwrap();
            } else {
                assert!(bytes.starts_with(b"<svg"));
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
