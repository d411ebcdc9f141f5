//! `courier`: serves the app (and, with no bucket configured, the embedded store).

use std::process::ExitCode;

use courier::settings::Settings;
use courier::startup::Application;
use courier::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    telemetry::init();
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error}");
            eprintln!("courier: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> Result<(), Box<dyn std::error::Error>> {
    if let Some(arg) = std::env::args().nth(1) {
        match arg.as_str() {
            "serve" => {}
            "-h" | "--help" | "help" => {
                println!("courier [serve]\n\nServes Courier. Configuration comes from the environment: see README.md.");
                return Ok(());
            }
            other => return Err(format!("unknown command \"{other}\"; try `courier --help`").into()),
        }
    }
    let settings = Settings::from_env()?;
    let application = Application::build(settings).await?;
    application.run_until_stopped().await?;
    Ok(())
}
