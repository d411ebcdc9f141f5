//! The command line: `get <link> [-o <path>] [--password <p>]` and
//! `send <file>… --url <courier> [--password <p>]`.

use std::path::PathBuf;

use crate::error::CliError;
use crate::get::GetOptions;
use crate::send::SendOptions;

pub const USAGE: &str = "\
Usage:
  courier get <link> [-o <directory or file>] [--password <password>]
  courier send <file>... --url <courier URL> [--password <password>]

The password may also come from the environment variable COURIER_PASSWORD.
`get` saves each file of the share (into the current directory unless -o says
otherwise) and prints where; `send` encrypts each file, uploads it, and prints
its link. The key is in the link after #: Courier never sees it.";

/// The environment variable a password may come from (not the shell's history).
pub const PASSWORD_VAR: &str = "COURIER_PASSWORD";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Get(GetOptions),
    Send(SendOptions),
    Help,
}

/// Parses the arguments after the binary's name; the password falls back
/// to `COURIER_PASSWORD`.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    parse_with_env(args, std::env::var(PASSWORD_VAR).ok())
}

fn parse_with_env(args: &[String], env_password: Option<String>) -> Result<Command, CliError> {
    let usage = |sentence: String| CliError::Usage(format!("{sentence}\n\n{USAGE}"));
    let Some((command, rest)) = args.split_first() else {
        return Err(usage("Say what to do: get or send.".to_owned()));
    };
    let mut positional = Vec::new();
    let mut output = None;
    let mut url = None;
    let mut password = None;
    let mut rest = rest.iter();
    while let Some(arg) = rest.next() {
        let mut value = |name: &str| {
            rest.next()
                .cloned()
                .ok_or_else(|| usage(format!("{name} needs a value.")))
        };
        match arg.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "-o" | "--output" => output = Some(PathBuf::from(value(arg)?)),
            "--url" => url = Some(value(arg)?),
            "--password" => password = Some(value(arg)?),
            "--" => positional.extend(rest.by_ref().cloned()),
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(usage(format!("{flag} is not an option of courier {command}.")));
            }
            _ => positional.push(arg.clone()),
        }
    }
    let password = password.or(env_password).filter(|p| !p.is_empty());
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "get" => {
            if url.is_some() {
                return Err(usage(
                    "courier get takes its Courier from the link, not --url.".to_owned(),
                ));
            }
            let [link] =
                <[String; 1]>::try_from(positional).map_err(|_| usage("courier get takes one link.".to_owned()))?;
            Ok(Command::Get(GetOptions { link, output, password }))
        }
        "send" => {
            if output.is_some() {
                return Err(usage("courier send has no -o: it prints the links.".to_owned()));
            }
            if positional.is_empty() {
                return Err(usage("courier send needs at least one file.".to_owned()));
            }
            let url = url.ok_or_else(|| usage("courier send needs --url <Courier's address>.".to_owned()))?;
            Ok(Command::Send(SendOptions {
                files: positional.into_iter().map(PathBuf::from).collect(),
                url,
                password,
            }))
        }
        other => Err(usage(format!("\"{other}\" is not a command: use get or send."))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(str::to_owned).collect()
    }

    #[test]
    fn get_and_send_take_their_options() {
        assert_eq!(
            parse_with_env(&args("get https://c/s/x#k -o out --password pw"), None).expect("parses"),
            Command::Get(GetOptions {
                link: "https://c/s/x#k".to_owned(),
                output: Some(PathBuf::from("out")),
                password: Some("pw".to_owned()),
            })
        );
        assert_eq!(
            parse_with_env(
                &args("send a.txt b.txt --url http://127.0.0.1:3000"),
                Some("env".to_owned())
            )
            .expect("parses"),
            Command::Send(SendOptions {
                files: vec![PathBuf::from("a.txt"), PathBuf::from("b.txt")],
                url: "http://127.0.0.1:3000".to_owned(),
                password: Some("env".to_owned()),
            })
        );
        assert_eq!(
            parse_with_env(&args("get --help"), None).expect("parses"),
            Command::Help
        );
    }

    #[test]
    fn a_wrong_line_says_what_is_wrong() {
        for (line, sentence) in [
            ("", "Say what to do"),
            ("fetch x", "\"fetch\" is not a command"),
            ("get", "one link"),
            ("get a b", "one link"),
            ("get x -o", "-o needs a value"),
            ("get x --verbose", "--verbose is not an option"),
            ("send a.txt", "needs --url"),
            ("send --url http://c", "at least one file"),
        ] {
            let error = parse_with_env(&args(line), None).expect_err(line).to_string();
            assert!(error.contains(sentence), "{line}: {error}");
        }
    }
}
