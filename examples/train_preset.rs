//! Trains one preset on MNIST and prints a results-table row: a stand-in for
//! `scratchnet train --preset NAME` until the command line lands.
//!
//! `cargo run --release --example train_preset -- --preset nielsen-ch3 [--data DIR]
//!  [--log run.csv] [--threads 2] [any option of scratchnet::preset::OPTIONS]`

use scratchnet::mnist::{data_dir, Mnist};
use scratchnet::preset::Settings;
use scratchnet::rng::Rng;
use scratchnet::train::{best_epoch, evaluate, train, EpochReport, Observer, Samples};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

/// Prints each epoch and appends it to the CSV log.
struct Log(Option<std::fs::File>);

impl Observer for Log {
    fn epoch_done(&mut self, r: &EpochReport) {
        let (v, t) = (
            r.validation_accuracy.unwrap_or(f64::NAN),
            r.test_accuracy.unwrap_or(f64::NAN),
        );
        println!(
            "epoch {:3}  cost {:.5}  validation {:.4}  test {:.4}  {:.1} s",
            r.epoch, r.train_cost, v, t, r.seconds
        );
        if let Some(f) = &mut self.0 {
            writeln!(f, "{},{},{},{},{}", r.epoch, r.train_cost, v, t, r.seconds).unwrap();
            f.flush().unwrap();
        }
    }
}

fn samples(set: &scratchnet::mnist::DataSet) -> Samples<f32> {
    Samples::from_pixels(
        &set.images.pixels,
        set.images.pixels_per_image(),
        set.labels.clone(),
    )
}

fn main() -> scratchnet::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (settings, rest) = Settings::from_args(&args)?;
    let value = |flag: &str| {
        rest.iter()
            .position(|a| a == flag)
            .and_then(|i| rest.get(i + 1))
    };
    let threads = value("--threads").map_or(2, |t| t.parse().expect("--threads N"));
    scratchnet::linalg::set_threads(threads);
    let dir = data_dir(value("--data").map(PathBuf::from).as_deref());
    let mnist = Mnist::load(&dir)?;
    let (train_set, validation_set) = mnist.train.split_at(50_000);
    let (train_s, val_s, test_s) = (
        samples(&train_set),
        samples(&validation_set),
        samples(&mnist.test),
    );
    println!("{}  threads={threads}", settings.describe());
    let mut log = Log(value("--log").map(|p| {
        let mut f = std::fs::File::create(p).expect("cannot create the log file");
        writeln!(
            f,
            "epoch,train_cost,validation_accuracy,test_accuracy,seconds"
        )
        .unwrap();
        f
    }));
    let mut rng = Rng::new(settings.seed);
    let mut net = settings.network::<f32>(&mut rng);
    let start = Instant::now();
    let reports = train(
        &mut net,
        &train_s,
        Some(&val_s),
        Some(&test_s),
        &settings.train,
        &mut rng,
        &mut log,
    )?;
    let minutes = start.elapsed().as_secs_f64() / 60.0;
    let best = best_epoch(&reports).expect("validated every epoch");
    let r = &reports[best - 1];
    let test = evaluate(&net, &test_s);
    let m = test.confusion(&mnist.test.labels, 10);
    println!(
        "RESULT epochs={} best_epoch={best} best_validation={:.4} test_at_best={:.4} minutes={minutes:.2}",
        reports.len(),
        r.validation_accuracy.unwrap(),
        r.test_accuracy.unwrap()
    );
    println!(
        "FINAL-NET test={:.4} 3->8={} 8->3={} threes={} eights={}",
        test.accuracy,
        m[3][8],
        m[8][3],
        m[3].iter().sum::<usize>(),
        m[8].iter().sum::<usize>()
    );
    Ok(())
}
