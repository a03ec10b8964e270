use std::sync::Mutex;

use crate::cli::{GlobalArgs, PreviewArgs};
use crate::exit::Exit;
use crate::export::{EngineOptions, RecordSink, RecordView};
use crate::report::progress::Progress;

/// Collects the named SKU's records, field by field.
struct Trace {
    sku: String,
    sku_field: Vec<usize>,
    records: Mutex<Vec<Vec<(String, String, String)>>>,
}

impl RecordSink for Trace {
    type Item = ();

    fn record(&self, feed: usize, view: &RecordView<'_, '_>) {
        let _ = (feed, view);
    }

    fn collect(&mut self, _: usize, _: ()) {}
}

pub fn run(global: &GlobalArgs, args: &PreviewArgs) -> anyhow::Result<Exit> {
    let config = super::load_config(global)?;
    let feeds = super::load_feeds(&config, std::slice::from_ref(&args.feed))?;
    let Some(feed) = feeds.first() else {
        return Ok(Exit::Usage);
    };
    let _ = Trace {
        sku: args.sku.clone(),
        sku_field: Vec::new(),
        records: Mutex::new(Vec::new()),
    };
    let _ = (
        feed,
        EngineOptions {
            write: false,
            out_dir: None,
        },
        Progress::hidden(),
    );
    anyhow::bail!("preview is not implemented yet")
}
