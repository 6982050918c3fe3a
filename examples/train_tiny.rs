// Mini-batch gradient descent on a problem small enough to watch: is the stroke on the left
// or the right?
//
// Book: "Gradient descent and training". 4 × 4 images hold one vertical stroke of ink,
// in column 0 or 1 (label 0) or column 2 or 3 (label 1), on a faint noisy background. The
// network 16 → 8 → 2 learns it with the same `train` that learns MNIST. Run it with
// `cargo run --example train_tiny`.

use scratchnet::data::samples::Samples;
use scratchnet::network::Network;
use scratchnet::rng::Rng;
use scratchnet::train::{evaluate, train, EpochReport, Observer, TrainConfig};

/// `n` labelled 4 × 4 images, as bytes row by row, with their labels.
fn strokes(n: usize, rng: &mut Rng) -> Samples<f32> {
    let mut pixels = Vec::with_capacity(n * 16);
    let mut labels = Vec::with_capacity(n);
    for _ in 0..n {
        let column = rng.below(4);
        for _row in 0..4 {
            for col in 0..4 {
                let noise = rng.below(60) as u8;
                pixels.push(if col == column { 255 - noise } else { noise });
            }
        }
        labels.push((column >= 2) as u8);
    }
    Samples::from_pixels(&pixels, 16, labels)
}

/// Prints one line per epoch.
struct Print;

impl Observer for Print {
    fn epoch_done(&mut self, report: &EpochReport) {
        println!(
            "epoch {:2}: training cost {:.4}, validation accuracy {:.1}%",
            report.epoch,
            report.train_cost,
            100.0 * report.validation_accuracy.unwrap_or(0.0)
        );
    }
}

fn main() -> scratchnet::Result<()> {
    let mut rng = Rng::new(1);
    let (training, validation) = (strokes(200, &mut rng), strokes(100, &mut rng));
    // ANCHOR: train
    let mut net: Network<f32> = Network::new(&[16, 8, 2], &mut rng);
    let before = evaluate(&net, &validation);
    // Nielsen's mini-batches of 10 and η = 3.0 (the defaults), for 10 epochs.
    let config = TrainConfig {
        epochs: 10,
        ..TrainConfig::default()
    };
    let reports = train(
        &mut net,
        &training,
        Some(&validation),
        None,
        &config,
        &mut rng,
        &mut Print,
    )?;
    let after = evaluate(&net, &validation);
    println!(
        "validation cost {:.4} → {:.4}, accuracy {:.1}% → {:.1}%",
        before.cost,
        after.cost,
        100.0 * before.accuracy,
        100.0 * after.accuracy
    );
    // ANCHOR_END: train
    assert!(
        after.cost < before.cost / 2.0,
        "training should at least halve the cost"
    );
    assert!(after.accuracy > 0.95);
    assert_eq!(reports.len(), config.epochs);
    Ok(())
}
