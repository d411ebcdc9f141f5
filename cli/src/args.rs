//! The command line: `get <link> [-o <path>] [--password <p>]` and
//! `send <file>… [--url <courier>] [--token <t>] [--password <p>] [--plain] [--quiet]`,
//! with the secrets and the address also from the environment.

use std::path::PathBuf;

use crate::courier::ApiToken;
use crate::error::CliError;
use crate::get::GetOptions;
use crate::resume;
use crate::send::{SendOptions, SendSettings};

pub const USAGE: &str = "\
Usage:
  courier get <link> [-o <directory or file>] [--password <password>]
  courier send <file>... [--url <courier URL>] [--token <API token>]
                         [--password <password>] [--plain] [--quiet]

`get` saves each file of the share (into the current directory unless -o says
otherwise) and prints where. `send` encrypts each file, uploads it, and prints
its link, one a line; the key is in the link after #: Courier never sees it.
With --plain, `send` uploads the file as it is, under its own name, and prints
a link without a key (for a Courier that does not encrypt, or a direct link).

The environment may give what the command line does not, and is the better
place for secrets (they stay out of the shell's history and `ps`):
  COURIER_URL       the Courier to send to
  COURIER_TOKEN     the API token, sent as `Authorization: Bearer`
  COURIER_PASSWORD  the password a file is encrypted or opened with

A large file interrupted (Ctrl-C, a lost connection) goes on from the parts
already stored when the same command runs again, as long as the file has not
changed; `send` says so on stderr. On a terminal it also shows its progress
there (in a pipe it does not). --quiet leaves only the links on stdout and
errors on stderr.";

/// The environment variables the command line reads.
pub const PASSWORD_VAR: &str = "COURIER_PASSWORD";
pub const TOKEN_VAR: &str = "COURIER_TOKEN";
pub const URL_VAR: &str = "COURIER_URL";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Get(GetOptions),
    Send(SendOptions, SendSettings),
    Help,
}

/// Parses the arguments after the binary's name; what they leave out may
/// come from the environment.
pub fn parse(args: &[String]) -> Result<Command, CliError> {
    parse_with_env(args, |name| std::env::var(name).ok())
}

fn parse_with_env(args: &[String], env: impl Fn(&str) -> Option<String>) -> Result<Command, CliError> {
    let usage = |sentence: String| CliError::Usage(format!("{sentence}\n\n{USAGE}"));
    let Some((command, rest)) = args.split_first() else {
        return Err(usage("Say what to do: get or send.".to_owned()));
    };
    let mut positional = Vec::new();
    let mut output = None;
    let mut url = None;
    let mut password = None;
    let mut token = None;
    let mut plain = false;
    let mut quiet = false;
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
            "--token" => token = Some(value(arg)?),
            "--plain" => plain = true,
            "-q" | "--quiet" => quiet = true,
            "--" => positional.extend(rest.by_ref().cloned()),
            flag if flag.starts_with('-') && flag.len() > 1 => {
                return Err(usage(format!("{flag} is not an option of courier {command}.")));
            }
            _ => positional.push(arg.clone()),
        }
    }
    // COURIER_PASSWORD set for encrypted sends does not stop a --plain one.
    let password = password
        .or_else(|| env(PASSWORD_VAR).filter(|_| !plain))
        .filter(|p| !p.is_empty());
    match command.as_str() {
        "-h" | "--help" | "help" => Ok(Command::Help),
        "get" => {
            let only_for_send = [
                (url.is_some(), "courier get takes its Courier from the link, not --url."),
                (token.is_some(), "courier get needs no --token: the link is enough."),
                (plain, "courier get has no --plain: it opens encrypted shares."),
            ];
            if let Some((_, sentence)) = only_for_send.into_iter().find(|(given, _)| *given) {
                return Err(usage(sentence.to_owned()));
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
            if plain && password.is_some() {
                return Err(usage(
                    "A password encrypts: it does not go with --plain. Leave one of them out.".to_owned(),
                ));
            }
            let url = url
                .or_else(|| env(URL_VAR))
                .filter(|url| !url.is_empty())
                .ok_or_else(|| usage("courier send needs --url <Courier's address> (or COURIER_URL).".to_owned()))?;
            Ok(Command::Send(
                SendOptions {
                    files: positional.into_iter().map(PathBuf::from).collect(),
                    url,
                    password,
                },
                SendSettings {
                    token: token.or_else(|| env(TOKEN_VAR)).and_then(ApiToken::new),
                    plain,
                    quiet,
                    state_dir: resume::state_dir(&env),
                },
            ))
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

    /// An environment of these variables only.
    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
        move |name| pairs.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone())
    }

    fn send(line: &str, vars: &[(&str, &str)]) -> (SendOptions, SendSettings) {
        match parse_with_env(&args(line), env(vars)).expect(line) {
            Command::Send(options, settings) => (options, settings),
            other => panic!("{line}: {other:?}"),
        }
    }

    #[test]
    fn get_and_send_take_their_options() {
        assert_eq!(
            parse_with_env(&args("get https://c/s/x#k -o out --password pw"), env(&[])).expect("parses"),
            Command::Get(GetOptions {
                link: "https://c/s/x#k".to_owned(),
                output: Some(PathBuf::from("out")),
                password: Some("pw".to_owned()),
            })
        );
        let (options, settings) = send(
            "send a.txt b.txt --url http://127.0.0.1:3000",
            &[("COURIER_PASSWORD", "env"), ("COURIER_STATE_DIR", "/state")],
        );
        assert_eq!(
            options,
            SendOptions {
                files: vec![PathBuf::from("a.txt"), PathBuf::from("b.txt")],
                url: "http://127.0.0.1:3000".to_owned(),
                password: Some("env".to_owned()),
            }
        );
        assert_eq!(
            settings,
            SendSettings {
                token: None,
                plain: false,
                quiet: false,
                state_dir: Some(PathBuf::from("/state")),
            }
        );
        assert_eq!(
            parse_with_env(&args("get --help"), env(&[])).expect("parses"),
            Command::Help
        );
    }

    #[test]
    fn the_token_and_the_url_come_from_the_flag_or_else_the_environment() {
        let vars = [("COURIER_TOKEN", "from-env"), ("COURIER_URL", "http://env")];
        let (options, settings) = send("send a.txt", &vars);
        assert_eq!(settings.token, ApiToken::new("from-env"));
        assert_eq!(options.url, "http://env");
        let (options, settings) = send("send a.txt --token from-flag --url http://flag", &vars);
        assert_eq!(settings.token, ApiToken::new("from-flag"));
        assert_eq!(options.url, "http://flag");
        // An empty variable is no token, and never shows in a Debug.
        assert_eq!(send("send a.txt --url u", &[("COURIER_TOKEN", "")]).1.token, None);
        assert!(!format!("{settings:?}").contains("from-flag"));
    }

    #[test]
    fn plain_and_quiet_are_switches() {
        let (options, settings) = send("send --plain a.txt -q --url u", &[("HOME", "/home/me")]);
        assert_eq!(options.files, [PathBuf::from("a.txt")]);
        assert!(settings.plain && settings.quiet);
        assert_eq!(
            settings.state_dir,
            Some(PathBuf::from("/home/me/.local/state/courier/uploads"))
        );
        let (options, settings) = send("send a.txt --plain --url u", &[("COURIER_PASSWORD", "p")]);
        assert_eq!(options.password, None);
        assert!(!settings.quiet);
        let (_, settings) = send("send a.txt --quiet --url u", &[]);
        assert!(!settings.plain && settings.quiet && settings.state_dir.is_none());
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
            ("get x --token t", "needs no --token"),
            ("get x --plain", "has no --plain"),
            ("send a.txt", "needs --url"),
            ("send a.txt --token", "--token needs a value"),
            ("send --url http://c", "at least one file"),
            ("send a.txt --url u --plain --password p", "does not go with --plain"),
        ] {
            let error = parse_with_env(&args(line), env(&[])).expect_err(line).to_string();
            assert!(error.contains(sentence), "{line}: {error}");
        }
    }
}
