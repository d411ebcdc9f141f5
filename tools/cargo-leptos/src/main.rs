//! `cargo leptos`, as cargo-leptos 0.3.6's own binary runs it, with one step
//! after a build that hashes a split bundle: [`bundle_seal`] names the files
//! of the bundle that name one another by their final content (cargo-leptos
//! #658), so that browsers can keep all of them for good.

use cargo_leptos::config::{Cli, Commands, Config};
use clap::Parser as _;
use color_eyre::eyre::WrapErr as _;

/// Tells the builds this tool runs that their splitter is the one pinned
/// here: `app`'s build script refuses its `split` feature under any other
/// cargo-leptos, whose older splitter makes a page that never hydrates
/// (the browser cannot resolve `__wbindgen_externref_xform__`) without a
/// word at build time.
const SPLITTER: (&str, &str) = ("COURIER_WASM_SPLITTER", "wasm_split_cli_support 0.2.3");

fn main() -> color_eyre::Result<()> {
    // SAFETY: set before any thread is started (the runtime comes next).
    unsafe { std::env::set_var(SPLITTER.0, SPLITTER.1) };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run())
}

async fn run() -> color_eyre::Result<()> {
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
    let build = match (&cli.command, cli.opts()) {
        (Commands::Build(_), Some(opts)) => {
            Some((opts, cli.manifest_path.clone(), cli.bin_args().map(<[String]>::to_vec)))
        }
        _ => None,
    };
    cargo_leptos::run(cli).await?;
    let Some((opts, manifest_path, bin_args)) = build else {
        return Ok(());
    };
    // `run` has moved into the workspace's directory.
    let cwd = camino::Utf8PathBuf::try_from(std::env::current_dir()?)?;
    let manifest_path = manifest_path.unwrap_or_else(|| "Cargo.toml".into());
    let config = Config::load(opts, &cwd, &manifest_path, false, bin_args.as_deref())?;
    for project in &config.projects {
        if !(project.split && project.hash_files) || project.build_server_only {
            continue;
        }
        let pkg_dir = project.site.root_relative_pkg_dir();
        let hash = bundle_seal::seal(&bundle_seal::Bundle {
            pkg_dir: pkg_dir.as_std_path(),
            hash_file: project.hash_file.abs.as_std_path(),
            output_name: &project.lib.output_name,
        })
        .wrap_err("naming the split bundle by its content")?;
        println!("Named the split bundle's script, module and loader {hash}");
        if project.release && project.precompress {
            cargo_leptos::ext::compress::compress_static_files(project.site.root_dir.clone().into()).await?;
        }
    }
    Ok(())
}
