//! Refuses the builds that would give a page that never hydrates: the
//! `split` feature (the uploader as a lazily loaded module, see
//! `src/browser/mod.rs`) in a cargo-leptos build without `--split`. The
//! page's script would then import `__wasm_split_placeholder__`, which only
//! the splitter replaces, and the browser would stop there. cargo-leptos
//! links a split build with `--emit-relocs` (the splitter needs the
//! relocations): no such flag, no splitter. And the feature under any
//! cargo-leptos but the project's own, whose splitter alone handles this
//! bundle (it says so in `COURIER_WASM_SPLITTER`).

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let split = std::env::var_os("CARGO_FEATURE_SPLIT").is_some();
    let wasm = std::env::var("CARGO_CFG_TARGET_ARCH").is_ok_and(|arch| arch == "wasm32");
    if !(split && wasm) {
        return;
    }
    // Set by cargo-leptos for the builds it runs; a lint or check (clippy,
    // rust-analyzer) links nothing and may use the feature alone.
    println!("cargo:rerun-if-env-changed=LEPTOS_OUTPUT_NAME");
    if std::env::var_os("LEPTOS_OUTPUT_NAME").is_none() {
        return;
    }
    // Set by the project's own cargo-leptos (`tools/cargo-leptos`), whose
    // splitter handles this bundle; a stock cargo-leptos 0.3.6's splitter
    // builds without complaint a page that never hydrates (seen: "Failed to
    // resolve module specifier __wbindgen_externref_xform__").
    println!("cargo:rerun-if-env-changed=COURIER_WASM_SPLITTER");
    if std::env::var_os("COURIER_WASM_SPLITTER").is_none() {
        eprintln!(
            "error: the `split` feature needs the splitter of the project's own cargo-leptos (`make dev`, `make build`, \
             or the cargo-leptos `make tools` installs under target/tools/). Another cargo-leptos's splitter builds a \
             page that never hydrates. For an unsplit bundle, build without the feature: plain `cargo leptos watch` \
             or `build`."
        );
        std::process::exit(1);
    }
    let rustflags = std::env::var("CARGO_ENCODED_RUSTFLAGS").unwrap_or_default();
    if !rustflags.split('\x1f').any(|flag| flag.contains("--emit-relocs")) {
        eprintln!(
            "error: the `split` feature needs `cargo leptos … --split` (with the splitter `make` installs, as `make dev` \
             and `make build` run it). Without the splitter the page would load a module no build writes and never \
             hydrate. For an unsplit bundle, build without the feature: plain `cargo leptos watch` or `build`."
        );
        std::process::exit(1);
    }
}
