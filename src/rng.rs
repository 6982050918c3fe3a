//! A small seeded random number generator: every random choice in the crate comes from here.
//!
//! Book chapter: "Reproducibility and testing". xoshiro256** (Blackman and Vigna, 2018),
//! seeded through SplitMix64 as its authors recommend; normals by the Box–Muller transform.
//! The same seed gives the same stream on every machine. Not for cryptography.

/// xoshiro256**: 256 bits of state, period 2²⁵⁶ − 1.
#[derive(Clone, Debug)]
pub struct Rng {
    s: [u64; 4],
    /// The second normal from the last Box–Muller pair, if unused.
    spare_normal: Option<f64>,
}

/// SplitMix64 step: spreads a 64-bit seed into well-mixed state words.
fn splitmix64(x: &mut u64) -> u64 {
    *x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// A generator whose whole stream is fixed by `seed`.
    ///
    /// Book: "Reproducibility and testing".
    pub fn new(seed: u64) -> Self {
        let mut x = seed;
        let s = [
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
            splitmix64(&mut x),
        ];
        Rng {
            s,
            spare_normal: None,
        }
    }

    // ANCHOR: xoshiro
    /// The next 64 random bits.
    ///
    /// Book: "Reproducibility and testing".
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }
    // ANCHOR_END: xoshiro

    /// Uniform in [0, 1), with 53 random bits.
    pub fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform integer in [0, n), without modulo bias (Lemire's method): the high half of
    /// a 64-bit draw times n, drawing again when its low half falls below 2⁶⁴ mod n (those
    /// draws would make some results likelier than others; a chance below n / 2⁶⁴).
    ///
    /// # Panics
    /// If `n == 0`.
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "Rng::below(0)");
        let n = n as u64;
        loop {
            let m = (self.next_u64() as u128) * (n as u128);
            let low = m as u64;
            // 2⁶⁴ mod n is below n, so a low half of at least n passes without the division
            // (the shuffle calls this once per image per epoch).
            if low >= n || low >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        }
    }

    // ANCHOR: normal
    /// A draw from the standard normal N(0, 1) (Box–Muller).
    ///
    /// Book: "Reproducibility and testing", "The forward pass".
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare_normal.take() {
            return z;
        }
        // 1 − U lies in (0, 1], so the logarithm is finite.
        let u1 = 1.0 - self.uniform();
        let u2 = self.uniform();
        let r = (-2.0 * u1.ln()).sqrt();
        let theta = 2.0 * std::f64::consts::PI * u2;
        self.spare_normal = Some(r * theta.sin());
        r * theta.cos()
    }
    // ANCHOR_END: normal

    // ANCHOR: shuffle
    /// Shuffles `xs` in place (Fisher–Yates): every order equally likely.
    ///
    /// Book: "Reproducibility and testing", "Gradient descent and training".
    pub fn shuffle<T>(&mut self, xs: &mut [T]) {
        for i in (1..xs.len()).rev() {
            let j = self.below(i + 1);
            xs.swap(i, j);
        }
    }
    // ANCHOR_END: shuffle
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_different_seed_different_stream() {
        let (mut a, mut b, mut c) = (Rng::new(7), Rng::new(7), Rng::new(8));
        let xs: Vec<u64> = (0..100).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..100).map(|_| b.next_u64()).collect();
        let zs: Vec<u64> = (0..100).map(|_| c.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs, zs);
    }

    #[test]
    fn normal_has_mean_zero_and_variance_one() {
        let mut rng = Rng::new(1);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        // Standard errors: 1/√n ≈ 0.0022 for the mean, √(2/n) ≈ 0.0032 for the variance.
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.015, "variance {var}");
    }

    /// Skipping the division when the low half is at least n changes no draw: the same
    /// stream gives the same results as Lemire's test written out in full, including for
    /// n just above half the range, where about half the draws are rejected.
    #[test]
    fn below_draws_as_the_full_rejection_test_does() {
        let full = |rng: &mut Rng, n: u64| loop {
            let m = (rng.next_u64() as u128) * (n as u128);
            if m as u64 >= n.wrapping_neg() % n {
                return (m >> 64) as usize;
            }
        };
        let half = usize::MAX / 2 + 2;
        for n in [1, 2, 7, 10, 50_000, half, usize::MAX - 2, usize::MAX] {
            let (mut fast, mut slow) = (Rng::new(11), Rng::new(11));
            for _ in 0..2_000 {
                assert_eq!(fast.below(n), full(&mut slow, n as u64), "n = {n}");
            }
        }
    }

    #[test]
    fn below_is_uniform_over_its_range() {
        let mut rng = Rng::new(3);
        let mut counts = [0usize; 7];
        for _ in 0..70_000 {
            counts[rng.below(7)] += 1;
        }
        // Each count is Binomial(70000, 1/7): mean 10000, sd ≈ 93.
        assert!(
            counts.iter().all(|&c| (9_600..10_400).contains(&c)),
            "{counts:?}"
        );
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let mut rng = Rng::new(5);
        let mut xs: Vec<usize> = (0..1000).collect();
        rng.shuffle(&mut xs);
        assert_ne!(xs, (0..1000).collect::<Vec<_>>());
        xs.sort();
        assert_eq!(xs, (0..1000).collect::<Vec<_>>());
    }
}
