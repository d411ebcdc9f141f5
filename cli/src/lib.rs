//! `courier get <link>` and `courier send <file>…`: end-to-end encrypted
//! shares from the command line, with `courier-format` (FORMAT.md). The
//! server's binary hands its arguments to [`run`]; tests call [`get`] and
//! [`send`] directly.

mod args;
mod courier;
mod destination;
mod error;
mod file_name;
mod get;
mod send;
mod source;
mod upload;

pub use args::{Command, USAGE, parse};
pub use error::{CliError, Refusal};
pub use get::{GetOptions, get};
pub use send::{SendOptions, send};

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
        Command::Send(options) => {
            for link in send(&options).await? {
                println!("{link}");
            }
        }
    }
    Ok(())
}
