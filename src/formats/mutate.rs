//! Test support: inputs mutated from valid ones, for every parser's property test.
//!
//! Book chapter: "Reproducibility and testing". A parser fed only random bytes rarely gets
//! past its magic number; one fed a valid file with a few bytes changed reaches every check.
//! [`run_mutations`] runs a parser on [`CASES`] inputs, each a small valid seed with one to
//! four edits: a flipped bit, a byte set to an edge value, bytes inserted or deleted, a cut,
//! a repeated run, a 4-byte header field set to an extreme (0, 1, 2¹⁶, 2²⁴, 2³¹ − 1, 2³² − 1,
//! the input's length; big- or little-endian), or a decimal number in a text header replaced
//! (PGM). Every other case is passed to a fix-up first, so checksummed formats (PNG's chunk
//! CRCs, the model file's CRC) get past their checksum into the fields behind it. The only
//! property checked is the parser's: it returns, `Ok` or `Err`, and never panics. The stream
//! of mutations is fixed by a seed, so a failure repeats. Compiled for tests only.

use crate::rng::Rng;

/// Mutated inputs per parser.
pub const CASES: usize = 10_000;

/// Extreme values written into 4-byte header fields.
const EXTREMES: [u32; 6] = [0, 1, 1 << 16, 1 << 24, i32::MAX as u32, u32::MAX];

/// Decimal numbers written over the numbers of a text header.
const NUMBERS: [&str; 7] = ["0", "1", "255", "256", "65535", "65536", "999999999"];

/// Where the edits of [`run_mutations`] fall: never in the first `magic` bytes (a format's
/// magic number, which only ever gets an input refused at once), and header-field edits in
/// the bytes before `header`.
#[derive(Clone, Copy, Debug)]
pub struct Layout {
    /// Bytes at the start left as they are.
    pub magic: usize,
    /// The end of the header, whose fields get extreme values.
    pub header: usize,
}

/// Makes a CRC-32 trailer (the last 4 bytes, little-endian, as the model file has it) right
/// again for the bytes before it, so that mutations reach what the CRC guards.
pub fn fix_crc32_trailer(bytes: &mut [u8]) {
    if bytes.len() >= 4 {
        let end = bytes.len() - 4;
        let crc = crate::formats::checksum::crc32(&bytes[..end]);
        bytes[end..].copy_from_slice(&crc.to_le_bytes());
    }
}

/// Runs `parse` on [`CASES`] mutations of `seeds` (each case mutates one seed, in turn), laid
/// out as `layout` says. Odd cases go through `fix_up` (e.g. recomputing a checksum) before
/// `parse`.
///
/// # Panics
/// When `parse` panics: the panic names the case and the input, in hex.
pub fn run_mutations(
    seeds: &[Vec<u8>],
    layout: Layout,
    fix_up: impl Fn(&mut [u8]),
    mut parse: impl FnMut(&[u8]),
) {
    let mut rng = Rng::new(12);
    for case in 0..CASES {
        let seed = &seeds[case % seeds.len()];
        let magic = layout.magic.min(seed.len());
        let mut input = seed[magic..].to_vec();
        for _ in 0..1 + rng.below(4) {
            mutate(&mut input, layout.header.saturating_sub(magic), &mut rng);
        }
        input.splice(0..0, seed[..magic].iter().copied());
        if case % 2 == 1 {
            fix_up(&mut input);
        }
        let run = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&input)));
        if run.is_err() {
            let hex: String = input.iter().map(|b| format!("{b:02x}")).collect();
            panic!("case {case}: the parser panicked on {hex}");
        }
    }
}

/// One random edit of `input`.
fn mutate(input: &mut Vec<u8>, header: usize, rng: &mut Rng) {
    let at = |rng: &mut Rng, len: usize| rng.below(len.max(1));
    let len = input.len();
    match rng.below(8) {
        0 if len > 0 => input[at(rng, len)] ^= 1 << rng.below(8),
        1 if len > 0 => input[at(rng, len)] = [0, 0x7F, 0x80, 0xFF][rng.below(4)],
        2 => {
            let bytes: Vec<u8> = (0..1 + rng.below(8))
                .map(|_| rng.below(256) as u8)
                .collect();
            let i = at(rng, len + 1);
            input.splice(i..i, bytes);
        }
        3 if len > 0 => {
            let i = at(rng, len);
            input.drain(i..(i + 1 + rng.below(8)).min(len));
        }
        4 => input.truncate(at(rng, len)),
        5 if len > 0 => {
            let i = at(rng, len);
            let run = input[i..(i + 1 + rng.below(16)).min(len)].to_vec();
            input.splice(i..i, run);
        }
        6 if len >= 4 => {
            let i = at(rng, header.min(len - 3));
            let value = match rng.below(7) {
                6 => len as u32,
                k => EXTREMES[k],
            };
            let bytes = match rng.below(2) {
                0 => value.to_be_bytes(),
                _ => value.to_le_bytes(),
            };
            input[i..i + 4].copy_from_slice(&bytes);
        }
        _ => replace_a_number(input, header, rng),
    }
}

/// Replaces a run of ASCII digits that starts in the first `header` bytes with one of
/// [`NUMBERS`]; does nothing when there is none.
fn replace_a_number(input: &mut Vec<u8>, header: usize, rng: &mut Rng) {
    let starts: Vec<usize> = (0..input.len().min(header))
        .filter(|&i| input[i].is_ascii_digit() && (i == 0 || !input[i - 1].is_ascii_digit()))
        .collect();
    if starts.is_empty() {
        return;
    }
    let start = starts[rng.below(starts.len())];
    let end = (start..input.len())
        .find(|&i| !input[i].is_ascii_digit())
        .unwrap_or(input.len());
    let number = NUMBERS[rng.below(NUMBERS.len())].bytes();
    input.splice(start..end, number);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mutations_change_the_input_and_repeat_with_the_seed() {
        let seed = b"P5 12 34 255\n\x00\x01\x02\x03".to_vec();
        let layout = Layout {
            magic: 2,
            header: 12,
        };
        let mut seen = Vec::new();
        run_mutations(
            std::slice::from_ref(&seed),
            layout,
            |_| {},
            |input| seen.push(input.to_vec()),
        );
        let changed = seen.iter().filter(|input| **input != seed).count();
        assert!(changed > CASES * 9 / 10, "{changed} of {CASES} changed");
        assert!(seen.iter().all(|input| input.starts_with(b"P5")));
        let mut again = Vec::new();
        run_mutations(&[seed], layout, |_| {}, |input| again.push(input.to_vec()));
        assert_eq!(seen, again);
    }
}
