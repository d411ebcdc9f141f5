//! `cargo leptos`, as cargo-leptos 0.3.6's own binary runs it.

use cargo_leptos::config::Cli;
use clap::Parser as _;

#[tokio::main]
async fn main() -> color_eyre::Result<()> {
    color_eyre::install()?;
    // Run as `cargo leptos …`, the first argument after the program is
    // "leptos", which the command line parser does not expect.
    let args = std::env::args()
        .enumerate()
        .filter(|(at, arg)| !(*at == 1 && arg == "leptos"))
        .map(|(_, arg)| arg);
    let cli = Cli::parse_from(args);
    let verbose = cli.opts().map_or(0, |opts| opts.verbose);
    cargo_leptos::logger::setup(verbose, &cli.log);
    cargo_leptos::run(cli).await
}
