//! End-to-end tests of the `omnifeed` binary, one module per command or concern.

mod diff_push;
mod loader_fuzz;
mod support;
mod validate_defects;
mod validate_inputs;
