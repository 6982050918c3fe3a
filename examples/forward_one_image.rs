// One image through the write-up's network, end to end: draw a digit as 784 bytes, scale it
// into the input vector A¹, and run the forward pass 784 → 20 → 10 → 10.
//
// Book: "The image as a vector" and "The forward pass". Run it with
// `cargo run --example forward_one_image`. The network is untrained (weights straight from
// N(0, 1)), so its guess is arbitrary: training is what makes output 1 the largest.

use scratchnet::data::samples::Samples;
use scratchnet::network::Network;
use scratchnet::rng::Rng;

// ANCHOR: draw
/// A 28 × 28 "1": a slightly slanted stroke of ink, as 784 bytes row by row from the top
/// left (0 = background, 255 = ink), the layout MNIST uses.
fn draw_a_one() -> Vec<u8> {
    let mut pixels = vec![0u8; 28 * 28];
    for row in 4..24 {
        let col = 15 - row / 8; // the stroke leans right as it rises
        pixels[row * 28 + col] = 255;
        pixels[row * 28 + col + 1] = 180;
    }
    pixels
}
// ANCHOR_END: draw

fn main() {
    // ANCHOR: flatten
    let pixels = draw_a_one();
    // The same scaling training uses: byte p becomes p / 255, and image k is row k.
    let samples: Samples<f32> = Samples::from_pixels(&pixels, 784, vec![1]);
    let a1 = samples.image(0);
    // Pixel (row, col) is element 28·row + col of A¹.
    assert_eq!(a1.len(), 784);
    assert_eq!(a1[4 * 28 + 15], 1.0);
    // ANCHOR_END: flatten

    for row in 0..28 {
        let line: String = (0..28)
            .map(|col| if a1[row * 28 + col] > 0.5 { '#' } else { '.' })
            .collect();
        println!("{line}");
    }

    // ANCHOR: forward
    let net: Network<f32> = Network::new(&[784, 20, 10, 10], &mut Rng::new(42));
    let a_out = net.feedforward(&a1);
    for (digit, a) in a_out.as_slice().iter().enumerate() {
        println!("output {digit}: {a:.3}");
    }
    // σ keeps every output strictly between 0 and 1.
    assert!(a_out.as_slice().iter().all(|&a| a > 0.0 && a < 1.0));
    println!("predicted digit (untrained): {}", net.predict(&a1));
    // ANCHOR_END: forward
}
