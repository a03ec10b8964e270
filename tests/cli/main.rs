//! End-to-end tests of the `omnifeed` binary, one module per command or concern.

mod channel_guards;
mod config_names;
mod config_taxonomy;
mod diff_push;
mod direct_io;
mod duplicate_keys;
mod export_determinism;
mod export_dirty;
mod export_files;
mod export_readback;
mod export_stores;
mod export_support;
mod export_templates;
mod findings_report;
mod identifiers;
mod load_timing;
mod loader_fuzz;
mod loader_quirks;
mod loader_stock;
mod paths;
mod record_hash;
mod review_fixes;
mod shopper_text;
mod support;
mod validate_defects;
mod validate_inputs;
