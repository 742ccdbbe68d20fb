//! Embeds the built site (`target/site`, written by cargo-leptos before it builds this crate)
//! into the binary, brotli-compressed in release builds, so `airdesk` runs alone.

use std::path::Path;

fn main() {
    let site = Path::new("../target/site");
    // A plain `cargo build`/`cargo test` on a fresh clone has no site yet: serve the static
    // assets alone then (debug builds read them from disk at run time anyway).
    let dir = if site.join("pkg").is_dir() {
        site
    } else {
        Path::new("../public")
    };
    // Cargo reruns a build script on every build while a path it watches is missing, and every
    // rerun rebuilds this crate: watch the site only once it exists. cargo-leptos, which writes
    // it, sets LEPTOS_OUTPUT_NAME, so the first build through it reruns this script anyway.
    if dir == site {
        println!("cargo::rerun-if-changed=../target/site");
    }
    println!("cargo::rerun-if-changed=../public");
    println!("cargo::rerun-if-env-changed=LEPTOS_OUTPUT_NAME");
    memory_serve::load_directory(dir);
}
