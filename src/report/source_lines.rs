//! Fetches the text of a few lines of a catalog file, to show findings like a compiler does.

use std::collections::{BTreeSet, HashMap};
use std::io::{BufRead, BufReader};

use crate::load::line_counter::LineEnding;

/// Reads `file` once and returns the requested 1-based lines, cut to `width` characters.
pub fn fetch(file: &str, lines: &BTreeSet<u64>, width: usize) -> HashMap<u64, String> {
    let mut found = HashMap::new();
    let Some(&last) = lines.last() else {
        return found;
    };
    // A pipe or a device was read once by the loader; opening it again would wait for a
    // writer that never comes.
    if !std::fs::metadata(file).is_ok_and(|meta| meta.is_file()) {
        return found;
    }
    let Ok(handle) = std::fs::File::open(file) else {
        return found;
    };
    let mut reader = BufReader::with_capacity(1 << 20, handle);
    // Lines split as the loader counted them, so the text shown is the line named.
    let ending = match reader.fill_buf() {
        Ok(head) => LineEnding::detect(head),
        Err(_) => return found,
    };
    let mut buf = Vec::new();
    let mut number = 0u64;
    while number < last {
        buf.clear();
        match reader.read_until(ending.terminator(), &mut buf) {
            Ok(0) | Err(_) => break,
            Ok(_) => number += 1,
        }
        if lines.contains(&number) {
            let text = String::from_utf8_lossy(&buf);
            let text = text
                .trim_end_matches(['\n', '\r'])
                .trim_start_matches(['\u{feff}', '\n']);
            let mut shown: String = text.chars().take(width).collect();
            if text.chars().count() > width {
                shown.push('…');
            }
            found.insert(number, shown);
        }
    }
    found
}
