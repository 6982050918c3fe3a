//! `visualize::assess` on the real MNIST test set (needs MNIST_DIR).

use crate::common::mnist_dir;
use scratchnet::app::visualize::assess;
use scratchnet::data::mnist::Mnist;
use scratchnet::formats::saved::Model;
use scratchnet::network::Network;
use scratchnet::rng::Rng;

#[test]
#[ignore = "needs MNIST: set MNIST_DIR"]
fn confusion_rows_count_every_test_label_and_mistakes_are_off_diagonal() {
    let test = Mnist::load(&mnist_dir()).unwrap().test;
    let net: Network<f32> = Network::new(&[784, 20, 10, 10], &mut Rng::new(4));
    let (confusion, mistakes) = assess(&Model::Dense(net), &test);
    // Row d sums to the number of test images labelled d, counted independently here.
    for (d, row) in confusion.iter().enumerate() {
        let labelled = test.labels.iter().filter(|&&l| l as usize == d).count();
        assert_eq!(row.iter().sum::<usize>(), labelled, "digit {d}");
    }
    let right: usize = (0..10).map(|d| confusion[d][d]).sum();
    assert_eq!(right + mistakes.len(), test.len());
    assert!(mistakes.iter().all(|m| m.label as usize != m.predicted));
}
