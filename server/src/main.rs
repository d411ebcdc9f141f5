//! `courier`: serves the app (and, with no bucket configured, the embedded store).

use std::process::ExitCode;
use std::time::Duration;

use courier::settings::Settings;
use courier::startup::Application;
use courier::{commands, telemetry};

fn main() -> ExitCode {
    telemetry::init();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("courier: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    // The command-line client speaks to a person: its errors once, as a sentence.
    let client = matches!(std::env::args().nth(1).as_deref(), Some("get" | "send" | "token"));
    let code = match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            if !client {
                tracing::error!("{error}");
            }
            eprintln!("courier: {error}");
            ExitCode::FAILURE
        }
    };
    // The stop has already waited its grace: what is still running (a file
    // operation cut short) must not hold the exit up.
    runtime.shutdown_timeout(Duration::from_secs(1));
    code
}

const HELP: &str = "\
courier [serve]       serve Courier (the embedded store too, unless COURIER_BUCKET is set)
courier setup-bucket  make COURIER_BUCKET ready for browser uploads (CORS, lifecycle, public-read policy); idempotent
courier check         check the configuration and the store before a deploy
courier token ...     API tokens for scripts: create --name NAME, revoke NAME, list
courier get LINK      download and decrypt an encrypted share (-o DIR or FILE; --password P)
courier send FILE...  encrypt (or --plain) and upload files to a Courier, resuming an interrupted one
                      (--url URL or COURIER_URL; --token T or COURIER_TOKEN; --password P; --quiet)

Configuration comes from the environment: see README.md.";

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    let command = std::env::args().nth(1);
    match command.as_deref() {
        None | Some("serve") => {
            let application = Application::build(Settings::from_env()?).await?;
            application.run_until_stopped().await;
        }
        Some("setup-bucket") => {
            for line in commands::setup_bucket(&Settings::from_env()?).await? {
                println!("{line}");
            }
        }
        Some("check") => {
            let findings = commands::check(&Settings::from_env()?).await?;
            for finding in &findings {
                println!("{} {}", if finding.ok { "ok  " } else { "FAIL" }, finding.sentence);
            }
            if findings.iter().any(|f| !f.ok) {
                return Err("the check failed".into());
            }
        }
        // The command-line client: encrypted shares, as the browser makes
        // and opens them (FORMAT.md).
        Some("get" | "send") => {
            let args: Vec<String> = std::env::args().skip(1).collect();
            courier_cli::run(&args).await?;
        }
        Some("token") => {
            let args: Vec<String> = std::env::args().skip(2).collect();
            let output = commands::token(&Settings::database_from_env()?, &args).await?;
            for line in &output.lines {
                println!("{line}");
            }
            if let Some(note) = output.note {
                eprintln!("{note}");
            }
        }
        Some("-h" | "--help" | "help") => println!("{HELP}"),
        Some(other) => return Err(format!("unknown command \"{other}\"; try `courier --help`").into()),
    }
    Ok(())
}
