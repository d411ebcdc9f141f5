//! Logs through `tracing`, filtered by `RUST_LOG` (default `info`).

use std::io::IsTerminal as _;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        // s3s logs every request at debug and failures at error; keep its noise down.
        .unwrap_or_else(|_| EnvFilter::new("info,s3s=warn,aws_config=warn"));
    // A second init (tests start many servers in one process) is harmless.
    let ansi = std::io::stderr().is_terminal();
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}
