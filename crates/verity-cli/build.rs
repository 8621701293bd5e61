//! Links the `verity` executable at a fixed address (not position-independent) on x86-64 Linux.
//!
//! Why: people run `verity search` as one process per query, like `rg`, and a process that
//! finds nothing spends most of its time starting. As a position-independent executable the
//! dynamic loader applies about 42,000 relative relocations at every start, writing to (and
//! so copying) every page of the binary's read-only data they touch: about 220 of a query's
//! 590 page faults, 0.7 ms of a 3.6 ms process (docs/BENCHMARKS.md, "Start-up: a fixed-address
//! executable"). At a fixed address the linker resolves them once. What is given up is
//! address-space randomisation of the executable's own image (its libraries, heap and stack
//! are still randomised). Only the `verity` binary is linked this way: test executables keep
//! the default.

fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let target_arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let target_env = std::env::var("CARGO_CFG_TARGET_ENV").unwrap_or_default();
    if target_os == "linux" && target_arch == "x86_64" && target_env == "gnu" {
        println!("cargo:rustc-link-arg-bins=-no-pie");
    }
    println!("cargo:rerun-if-changed=build.rs");
}
