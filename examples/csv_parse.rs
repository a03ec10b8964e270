//! Baseline for benchmarks: parse every record of the given CSV files with the csv crate
//! (one reused ByteRecord, one thread) and do nothing else. `benches/bench.py` reports
//! omnifeed's time as a ratio to this.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut records = 0u64;
    let mut bytes = 0u64;
    for path in std::env::args().skip(1) {
        let mut reader = csv::ReaderBuilder::new().from_path(&path)?;
        let mut record = csv::ByteRecord::new();
        while reader.read_byte_record(&mut record)? {
            records += 1;
            bytes += record.as_slice().len() as u64;
        }
    }
    println!("{records} records, {bytes} bytes of cells");
    Ok(())
}
