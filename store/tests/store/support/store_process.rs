//! The `courier-store` binary as a child process, for the tests that kill
//! the store (SIGKILL) and start it again on the same data directory.

use std::io::{BufRead as _, BufReader, Read};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

pub struct StoreProcess {
    child: Child,
    /// `http://127.0.0.1:<port>`, as it logged it.
    pub endpoint: String,
    log: mpsc::Receiver<String>,
    /// What it logged so far.
    lines: Vec<String>,
}

impl StoreProcess {
    /// Starts it on `data_dir` and a free port, with `settings` besides,
    /// and waits until it says it is ready.
    pub fn start(data_dir: &Path, settings: &[(&str, String)]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_courier-store"))
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("COURIER_EMBEDDED_S3_ADDR", "127.0.0.1:0")
            .env("COURIER_DATA_DIR", data_dir)
            .envs(settings.iter().map(|(name, value)| (name, value)))
            .env("RUST_LOG", "info")
            .env("NO_COLOR", "1")
            .current_dir(data_dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("courier-store starts");
        let (lines, log) = mpsc::channel();
        // Read to the end, or the process blocks once a pipe is full.
        let stdout = child.stdout.take().map(|out| Box::new(out) as Box<dyn Read + Send>);
        let stderr = child.stderr.take().map(|err| Box::new(err) as Box<dyn Read + Send>);
        for output in [stdout, stderr].into_iter().flatten() {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(output).lines().map_while(Result::ok) {
                    let _ = lines.send(line);
                }
            });
        }
        let mut process = Self {
            child,
            endpoint: String::new(),
            log,
            lines: Vec::new(),
        };
        while process.endpoint.is_empty() {
            let line = process
                .log
                .recv_timeout(Duration::from_secs(30))
                .unwrap_or_else(|_| panic!("courier-store did not start:\n{}", process.lines.join("\n")));
            if line.contains("the embedded store is ready") {
                process.endpoint = log_field(&line, "endpoint").expect("the store's endpoint");
            }
            process.lines.push(line);
        }
        process
    }

    /// SIGKILL, and wait until the process is gone.
    pub fn kill(&mut self) {
        self.child.kill().expect("SIGKILL");
        self.child.wait().expect("it dies");
    }

    /// Everything it logged so far.
    pub fn logged(&mut self) -> &[String] {
        self.lines.extend(self.log.try_iter());
        &self.lines
    }
}

impl Drop for StoreProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A field of a text log line (` name=value`).
fn log_field(line: &str, name: &str) -> Option<String> {
    let marker = format!(" {name}=");
    let rest = &line[line.find(&marker)? + marker.len()..];
    Some(rest.split_whitespace().next()?.to_owned())
}
