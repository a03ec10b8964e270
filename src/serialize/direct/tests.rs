use std::fs::File;
use std::io::Write;

use super::{ALIGN, CHUNK, DirectStats, DirectWriter};

/// Sizes around the chunk and block edges.
const SIZES: [usize; 8] = [
    0,
    1,
    ALIGN - 1,
    ALIGN,
    CHUNK - 1,
    CHUNK,
    CHUNK + 1,
    2 * CHUNK + 4095,
];

fn data(size: usize) -> Vec<u8> {
    (0..size).map(|i| (i * 31 % 251) as u8).collect()
}

/// Writes `data` in odd pieces through a writer on `file`.
fn write_through(file: File, wanted: bool, data: &[u8]) -> std::io::Result<DirectStats> {
    let mut writer = DirectWriter::with_direct(file, wanted)?;
    for piece in data.chunks(777) {
        writer.write_all(piece)?;
    }
    writer.finish()
}

/// Whether the file system under `dir` takes `O_DIRECT` at all (tmpfs before Linux 6.6
/// and some network file systems do not).
fn takes_direct_io(dir: &std::path::Path) -> bool {
    let file = File::create(dir.join("probe")).expect("create probe");
    super::set_direct(&file, true).is_ok()
}

/// Both paths write the same bytes in order, and the stats say which path each block took:
/// whole blocks direct, the tail through the page cache; forced off, everything cached.
#[test]
fn writes_every_byte_in_order_on_the_path_it_reports() {
    let dir = tempfile::tempdir().expect("temp dir");
    let direct_available = takes_direct_io(dir.path());
    if !direct_available {
        println!("skipping the direct half: this file system refuses O_DIRECT");
    }
    for size in SIZES {
        let data = data(size);
        for wanted in [true, false] {
            let path = dir.path().join(format!("f{size}-{wanted}"));
            let stats =
                write_through(File::create(&path).expect("create"), wanted, &data).expect("write");
            assert_eq!(std::fs::read(&path).expect("read"), data, "size {size}");
            let aligned = (size - size % ALIGN) as u64;
            let expected = if wanted && direct_available {
                DirectStats {
                    direct: aligned,
                    cached: size as u64 - aligned,
                }
            } else {
                DirectStats {
                    direct: 0,
                    cached: size as u64,
                }
            };
            assert_eq!(stats, expected, "size {size}, direct wanted: {wanted}");
        }
    }
}

/// A file that refuses `O_DIRECT` (EINVAL) gets every byte through the ordinary path.
/// (`/dev/null` refuses it; `finish` is left out because a device refuses fsync too.)
#[cfg(target_os = "linux")]
#[test]
fn a_file_refusing_direct_io_is_written_through_the_page_cache() {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/null")
        .expect("open /dev/null");
    let mut writer = DirectWriter::with_direct(file, true).expect("writer");
    assert!(!writer.direct, "/dev/null takes no O_DIRECT");
    let size = 2 * CHUNK + 5;
    for piece in data(size).chunks(777) {
        writer.write_all(piece).expect("write");
    }
    writer.drain(true).expect("drain");
    assert_eq!(
        writer.stats,
        DirectStats {
            direct: 0,
            cached: size as u64
        }
    );
}

/// Errors other than a refusal of direct I/O reach the caller: a full device is not
/// swallowed or retried into silence.
#[cfg(target_os = "linux")]
#[test]
fn a_write_error_is_reported_not_swallowed() {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full");
    let err = write_through(file, true, &data(CHUNK + 1)).expect_err("/dev/full is full");
    assert_eq!(err.raw_os_error(), Some(libc::ENOSPC), "{err}");
}
