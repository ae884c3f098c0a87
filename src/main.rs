//! The `drift` binary: parse the command line, start tracing, hand over to the library.
fn main() {}
