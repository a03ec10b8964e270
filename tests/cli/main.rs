//! End-to-end tests of the `omnifeed` binary.
