//! Pictures of a convolutional network: its first convolutional layer's kernels, and the
//! feature maps one image makes in every convolutional and pooling layer.
//!
//! Book chapter: "Convolutional networks" ("Looking inside a convolutional network"). A
//! kernel K_{j,i} is k × k weights slid over input map i to make map j (Eq 9), so drawn as a
//! k × k heat map it shows the stroke or edge the map answers to: red weights push the map on
//! where the image has ink, blue ones off. The feature maps show where in the image each map
//! found its pattern, and how pooling keeps each window's strongest answer on a grid half
//! the size. The fully connected layers after them are left out: their neurons have no
//! place in the image.
//!
//! Drawn with [`super::Grid`] like the fully connected pictures. Bounded as they are: at most
//! [`MAX_CHUNKS`] kernels, and [`MAX_CHUNKS`] maps in all, each map about [`MAP_PIXELS`]
//! wide. Left out: deeper layers' kernels (each has one k × k slice per input map, too many
//! to read), and choosing the image (the first test image is drawn).

use super::{heatmap_grid, zoom_for, Canvas, Grid, MAX_CHUNKS, TILE_PIXELS};
use crate::convnet::{forward_one, ConvNet, Layer};
use crate::formats::png::Image;
use crate::linalg::MapShape;

/// About how wide a feature map is drawn, in canvas pixels: 28 × 3 for MNIST's input.
pub const MAP_PIXELS: usize = 84;

/// Maps of one layer drawn in a row of the picture, at most.
const MAP_COLUMNS: usize = 10;

/// Height of a layer's title line above its maps (5 rows of the font at 2×, and a gap).
const TITLE_HEIGHT: usize = 18;

// ANCHOR: kernels_image
/// The first convolutional layer's kernels, (c_out, c_in · k · k): one k × k diverging heat
/// map per kernel K_{j,i}, each on its own symmetric scale (zero is white), labelled with
/// its map j (and input map i when the layer reads more than one), ten to a row. `None`
/// when the network has no convolution. At most [`MAX_CHUNKS`] kernels, the first ones.
pub fn kernels_image(net: &ConvNet<f32>) -> Option<Image> {
    let l = net
        .layers()
        .iter()
        .position(|layer| matches!(layer, Layer::Conv { .. }))?;
    let shape = net.conv_shape(l);
    let (k, c_in) = (shape.k, shape.input.maps);
    // Row j of the kernel matrix holds K_{j,0}, K_{j,1}, … one after another (kernel_index).
    let kernels: Vec<&[f32]> = net.weights[l]
        .as_slice()
        .chunks_exact(k * k)
        .take(MAX_CHUNKS)
        .collect();
    let label = |n: usize| match c_in {
        1 => format!("{}", n + 1),
        _ => format!("{}/{}", n / c_in + 1, n % c_in + 1),
    };
    let zoom = zoom_for((k, k), TILE_PIXELS);
    let canvas = heatmap_grid(&kernels, (k, k), MAP_COLUMNS, zoom, label);
    Some(canvas.into_image())
}
// ANCHOR_END: kernels_image

/// One band of the feature-map picture: a layer's title and its maps.
struct Band<'a> {
    title: String,
    grid: Grid,
    /// The layer's values, (maps · rows · cols).
    values: &'a [f32],
}

/// The feature maps `pixels` (one image's grey bytes, scaled to [0, 1] as in training) makes:
/// the input, then every convolutional and pooling layer's output maps, a band each with
/// the layer's name and map shape above it. Within a band white is the layer's smallest
/// value and black its largest, so the maps of a layer compare with one another. At most
/// [`MAX_CHUNKS`] maps in all, the first ones.
///
/// # Panics
/// If `pixels` is not one input image long.
#[track_caller]
pub fn feature_maps_image(net: &ConvNet<f32>, pixels: &[u8]) -> Image {
    let x: Vec<f32> = pixels.iter().map(|&p| p as f32 / 255.0).collect();
    let trace = forward_one(net, &x);
    let mut layers = vec![("input".to_string(), net.input(), &trace.a[0])];
    for (l, layer) in net.layers().iter().enumerate() {
        if !matches!(layer, Layer::Dense { .. }) {
            layers.push((layer.token(), net.shape(l + 1), &trace.a[l + 1]));
        }
    }
    let mut budget = MAX_CHUNKS;
    let mut bands = Vec::new();
    for (name, shape, values) in layers {
        let count = shape.maps.min(budget);
        budget -= count;
        if count > 0 {
            bands.push(band(name, shape, count, values));
        }
    }
    let width = bands.iter().map(|b| b.grid.width()).max().unwrap_or(1);
    let heights = bands.iter().map(|b| TITLE_HEIGHT + b.grid.height());
    let mut canvas = Canvas::new(width, heights.sum::<usize>().max(1), [255; 3]);
    let mut y = 0;
    for b in &bands {
        canvas.text((8, y + 8), &b.title, 2, [0; 3]);
        let maps: Vec<&[f32]> = b
            .values
            .chunks_exact(b.grid.shape.0 * b.grid.shape.1)
            .collect();
        let maps = &maps[..b.grid.count];
        let (lo, hi) = value_range(b.values);
        // A lone map (the input) needs no number.
        let label = |j: usize| match b.grid.count {
            1 => String::new(),
            _ => format!("{}", j + 1),
        };
        b.grid
            .draw(&mut canvas, (0, y + TITLE_HEIGHT), maps, label, |_, v| {
                ink((v - lo) / (hi - lo))
            });
        y += TITLE_HEIGHT + b.grid.height();
    }
    canvas.into_image()
}

/// The band for a layer `name` whose maps have `shape`, the first `count` of them drawn.
fn band(name: String, shape: MapShape, count: usize, values: &[f32]) -> Band<'_> {
    let MapShape { maps, rows, cols } = shape;
    let title = match maps {
        1 => format!("{name}: {rows}x{cols}"),
        _ => format!("{name}: {maps} maps {rows}x{cols}"),
    };
    Band {
        title,
        grid: Grid {
            count,
            shape: (rows, cols),
            columns: MAP_COLUMNS,
            zoom: zoom_for((rows, cols), MAP_PIXELS),
        },
        values,
    }
}

/// The smallest and largest finite value, widened to a range of at least 1e-6 so a layer of
/// equal values (a ReLU layer that stayed at 0) draws white rather than dividing by zero.
fn value_range(values: &[f32]) -> (f32, f32) {
    let finite = values.iter().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f32::INFINITY, f32::min);
    let hi = finite.fold(f32::NEG_INFINITY, f32::max);
    if lo.is_finite() {
        (lo, hi.max(lo + 1e-6))
    } else {
        (0.0, 1.0)
    }
}

/// Grey for `t` in [0, 1]: white at 0, black at 1, like ink on paper; clamped outside.
fn ink(t: f32) -> [u8; 3] {
    let t = if t.is_nan() { 0.0 } else { t.clamp(0.0, 1.0) };
    [(255.0 * (1.0 - t)).round() as u8; 3]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::visualize::diverging;
    use crate::convnet::{ConvNetConfig, Feature};
    use crate::network::NetworkConfig;
    use crate::rng::Rng;

    /// 8 × 8 images → 4 maps of 6 × 6 (3 × 3 kernels) → pool 2 → 4 maps of 3 × 3 → 10 outputs.
    fn small_net() -> ConvNet<f32> {
        let features = [Feature::Conv { k: 3, maps: 4 }, Feature::Pool { k: 2 }];
        let layers = NetworkConfig {
            sizes: vec![64, 10],
            ..NetworkConfig::default()
        };
        let config = ConvNetConfig::from_layer_list(&features, &layers).unwrap();
        ConvNet::build(&config, &mut Rng::new(5)).unwrap()
    }

    #[test]
    fn kernels_are_tiles_of_k_by_k_in_rows_of_ten() {
        let image = kernels_image(&small_net()).unwrap();
        // Four 3 × 3 tiles at zoom 112/3 = 37 in one row of ten columns, under a label.
        assert_eq!(image.width, 8 + 10 * (3 * 37 + 8));
        assert_eq!(image.height, 8 + 14 + 3 * 37 + 8);
    }

    #[test]
    fn kernel_colours_follow_the_weights() {
        let mut net = small_net();
        // Kernel 1: +2 at (0, 0), −1 at (0, 1), 0 elsewhere; its scale is 2.
        let w = net.weights[0].row_mut(0);
        w.fill(0.0);
        (w[0], w[1]) = (2.0, -1.0);
        let image = kernels_image(&net).unwrap();
        let px = |x: usize, y: usize| image.pixels[3 * (y * image.width + x)..][..3].to_vec();
        // The tile starts at (gap 8, gap 8 + label 14); each weight is 37 pixels wide.
        assert_eq!(px(8, 22), diverging(1.0).to_vec());
        assert_eq!(px(8 + 37, 22), diverging(-0.5).to_vec());
        assert_eq!(px(8 + 74, 22), vec![255; 3]);
    }

    #[test]
    fn feature_maps_show_the_input_and_every_conv_and_pool_layer() {
        let pixels: Vec<u8> = (0..64).map(|p| (p * 4) as u8).collect();
        let image = feature_maps_image(&small_net(), &pixels);
        // Bands: input 8 × 8 at zoom 84/8 = 10; conv 6 × 6 at zoom 14; pool 3 × 3 at zoom 28,
        // each one row of tiles: title 18 + gap 8 + label 14 + tile + gap 8.
        let band = |tile: usize| 18 + 8 + 14 + tile + 8;
        assert_eq!(image.height, band(80) + band(84) + band(84));
        assert_eq!(image.width, 8 + 10 * (84 + 8));
        // The input's first pixel is 0, the layer's smallest value: white. Its last, 252, the
        // largest: black.
        let px = |x: usize, y: usize| image.pixels[3 * (y * image.width + x)..][..3].to_vec();
        let top = 18 + 8 + 14;
        assert_eq!(px(8, top), vec![255; 3]);
        assert_eq!(px(8 + 79, top + 79), vec![0; 3]);
    }

    #[test]
    fn a_flat_layer_draws_white_not_nan() {
        assert_eq!(value_range(&[0.0, 0.0]), (0.0, 1e-6));
        assert_eq!(ink((0.0 - 0.0) / 1e-6), [255; 3]);
        assert_eq!(ink(f32::NAN), [255; 3]);
        assert_eq!(value_range(&[f32::NAN]), (0.0, 1.0));
    }
}
