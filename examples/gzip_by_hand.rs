// An IDX file wrapped in gzip by hand, then read back with our own gunzip and IDX parser.
//
// Book: "Reading MNIST". MNIST's files are IDX data inside gzip. This example builds a tiny
// IDX image file (two 2 × 3 images), wraps it in the gzip container field by field (header,
// DEFLATE stream, CRC-32 and length), reads it back, and then flips one bit to show the
// CRC-32 catching it. Run it with `cargo run --example gzip_by_hand`.

use scratchnet::data::mnist::{parse_images, IMAGES_MAGIC};
use scratchnet::formats::checksum::crc32;
use scratchnet::formats::inflate::{deflate_stored, gunzip};
use scratchnet::Error;

// ANCHOR: idx
/// An IDX image file: magic 2051, count, rows, cols (big-endian u32s), then the pixels.
fn idx_images(count: u32, rows: u32, cols: u32, pixels: &[u8]) -> Vec<u8> {
    let mut file = Vec::new();
    for field in [IMAGES_MAGIC, count, rows, cols] {
        file.extend_from_slice(&field.to_be_bytes());
    }
    file.extend_from_slice(pixels);
    file
}
// ANCHOR_END: idx

// ANCHOR: gzip
/// A gzip member (RFC 1952): a 10-byte header, a DEFLATE stream, then the CRC-32 and the
/// length of the uncompressed data, both little-endian.
fn gzip(data: &[u8]) -> Vec<u8> {
    // 1f 8b: gzip; 08: deflate; flags 0; modification time 0; extra flags 0; OS 255 (unknown).
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    // Stored blocks: valid DEFLATE that compresses nothing (our writer's only kind).
    out.extend_from_slice(&deflate_stored(data));
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}
// ANCHOR_END: gzip

fn main() -> scratchnet::Result<()> {
    // ANCHOR: round_trip
    let pixels = [
        0, 255, 0, 0, 255, 0, /* second image */ 255, 255, 255, 0, 0, 0,
    ];
    let file = gzip(&idx_images(2, 2, 3, &pixels));
    let images = parse_images(gunzip(&file)?, "example")?;
    assert_eq!((images.count, images.rows, images.cols), (2, 2, 3));
    assert_eq!(images.image(1), &pixels[6..]);
    println!(
        "read back {} images of {} × {}",
        images.count, images.rows, images.cols
    );

    // Flip one bit of one pixel inside the DEFLATE stream: the CRC-32 no longer matches.
    let mut corrupt = file.clone();
    corrupt[10 + 5 + 16 + 1] ^= 0x10;
    match gunzip(&corrupt) {
        Err(err @ Error::Checksum { .. }) => println!("corruption caught: {err}"),
        other => panic!("expected a checksum error, got {other:?}"),
    }
    // ANCHOR_END: round_trip
    Ok(())
}
