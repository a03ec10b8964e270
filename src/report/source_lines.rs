//! Fetches the text of a few lines of a catalog file, to show findings like a compiler does.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};

/// Reads `file` once and returns the requested 1-based lines, cut to `width` characters.
pub fn fetch(file: &str, lines: &BTreeSet<u64>, width: usize) -> HashMap<u64, String> {
    let mut found = HashMap::new();
    let Some(&last) = lines.last() else {
        return found;
    };
    let Ok(handle) = std::fs::File::open(file) else {
        return found;
    };
    let mut reader = BufReader::with_capacity(1 << 20, handle);
    let mut buf = Vec::new();
    let mut number = 0u64;
    while number < last {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => number += 1,
        }
        if lines.contains(&number) {
            let text = String::from_utf8_lossy(&buf);
            let text = text
                .trim_end_matches(['\n', '\r'])
                .trim_start_matches('\u{feff}');
            let mut shown: String = text.chars().take(width).collect();
            if text.chars().count() > width {
                shown.push('…');
            }
            found.insert(number, shown);
        }
    }
    found
}
