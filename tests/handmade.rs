//! The hand-made digits in tests/handmade/ (drawn by make_digits.py with Python's own zlib,
//! so they also test our PNG decoder against an independent encoder) decode and prepare.

use scratchnet::app::preprocess::{prepare, SIDE};
use scratchnet::formats::image::read_image;
use std::path::Path;

#[test]
fn python_written_pngs_decode_and_prepare_into_28x28() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/handmade");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "png") {
            let image = read_image(&path).unwrap();
            assert_eq!(
                (image.width, image.height),
                (200, 200),
                "{}",
                path.display()
            );
            // White (or transparent) paper: the corner is background, full white.
            assert_eq!(image.pixels[0], 255, "{}", path.display());
            let prepared = prepare(&image.pixels, image.width, image.height).unwrap();
            assert!(prepared.inverted);
            assert_eq!(prepared.pixels.len(), SIDE * SIDE);
            seen += 1;
        }
    }
    assert!(seen >= 17, "only {seen} PNGs in {}", dir.display());
}
