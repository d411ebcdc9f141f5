//! `courier get <link>` and `courier send <file>…`: end-to-end encrypted
//! shares from the command line, with `courier-format` (FORMAT.md), and
//! plain uploads with `send --plain`. The server's binary hands its
//! arguments to [`run`]; tests call [`get`], [`send`] and [`send_with`]
//! directly.

mod args;
mod courier;
mod destination;
mod error;
mod file_name;
mod get;
mod progress;
mod resume;
mod send;
mod source;
mod upload;

pub use args::{Command, PASSWORD_VAR, TOKEN_VAR, URL_VAR, USAGE, parse};
pub use courier::ApiToken;
pub use error::{CliError, Refusal};
pub use get::{GetOptions, get};
pub use resume::{STATE_DIR_VAR, state_dir};
pub use send::{SendOptions, SendSettings, send, send_with};

/// Runs `courier <args>` (the arguments after the binary's name): prints
/// what was saved or the links made, one a line.
pub async fn run(args: &[String]) -> Result<(), CliError> {
    match parse(args)? {
        Command::Help => println!("{USAGE}"),
        Command::Get(options) => {
            // Ctrl-C ends the download here, so the half-decrypted temporary
            // file is dropped (removed) rather than left behind by an exit.
            let saved = tokio::select! {
                saved = get(&options) => saved?,
                _ = tokio::signal::ctrl_c() => return Err(CliError::Interrupted),
            };
            for path in saved {
                println!("{}", path.display());
            }
        }
        Command::Send(options, settings) => {
            // Each link as soon as its file is done: a script reading them
            // keeps the ones made before a later file fails. Ctrl-C stops
            // with a sentence; the unfinished upload stays remembered.
            let sent = send_with(&options, &settings, |link| println!("{link}"));
            tokio::select! {
                sent = sent => sent?,
                _ = tokio::signal::ctrl_c() => return Err(CliError::SendInterrupted),
            }
        }
    }
    Ok(())
}
