//! A throwaway PostgreSQL 15 cluster for tests: `initdb` and `pg_ctl` in a
//! temporary directory, on a free loopback port, as the `postgres` user when
//! the tests run as root (PostgreSQL refuses root), with durability off (a
//! test's data is thrown away). Stopped and deleted when dropped. Each test
//! takes a database of its own ([`PgCluster::database`]).
//!
//! Debian 12's PostgreSQL 15 by default (`make test` installs it when
//! missing); `COURIER_TEST_PG_BIN` names another directory of its programs.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::Instant;

use tempfile::TempDir;

const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";
const USER: &str = "courier";

/// A running cluster; stopped and deleted on drop.
pub struct PgCluster {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

impl PgCluster {
    /// Starts a cluster, or says why it could not (with how to install PostgreSQL).
    pub fn start() -> Result<Self, String> {
        let started = Instant::now();
        let bin = std::env::var_os("COURIER_TEST_PG_BIN").map_or_else(|| PathBuf::from(DEFAULT_BIN), PathBuf::from);
        if !bin.join("initdb").is_file() || !bin.join("pg_ctl").is_file() {
            return Err(format!(
                "PostgreSQL 15's server programs (initdb, pg_ctl) are not in {}: install them with \
                 `apt-get install -y postgresql` (Debian 12), or set COURIER_TEST_PG_BIN to the directory \
                 that holds them. The PostgreSQL tests cannot run without them.",
                bin.display()
            ));
        }
        let as_postgres = is_root();
        let dir = tempfile::Builder::new()
            .prefix("courier-pg-")
            .tempdir()
            .map_err(|error| format!("no temporary directory for PostgreSQL: {error}"))?;
        if as_postgres {
            command_ok(Command::new("chown").arg("postgres").arg(dir.path()), "chown postgres")?;
        }
        let mut cluster = Self {
            bin,
            dir,
            port: 0,
            as_postgres,
        };
        let data = cluster.data();
        cluster.pg("initdb", |c| {
            c.arg("-D").arg(&data).args(["-A", "trust", "-U", USER, "--no-sync"])
        })?;
        // A port is free when we look; another process may take it before
        // PostgreSQL binds it, so try a few.
        let mut last_error = String::new();
        for _ in 0..3 {
            cluster.port = free_port()?;
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
                 -c full_page_writes=off -c max_connections=300",
                cluster.port,
                cluster.dir.path().display()
            );
            let log = cluster.dir.path().join("log");
            match cluster.pg("pg_ctl", |c| {
                c.arg("-D")
                    .arg(&data)
                    .arg("-l")
                    .arg(&log)
                    .args(["-w", "-t", "30", "-o", &options, "start"])
            }) {
                Ok(()) => {
                    eprintln!(
                        "PostgreSQL test cluster on port {} started in {} ms",
                        cluster.port,
                        started.elapsed().as_millis()
                    );
                    return Ok(cluster);
                }
                Err(error) => last_error = format!("{error}\n{}", std::fs::read_to_string(&log).unwrap_or_default()),
            }
        }
        Err(format!("the PostgreSQL test cluster did not start: {last_error}"))
    }

    /// A new, empty database named after `test` (letters, digits and `_`
    /// kept): its URL.
    pub fn database(&self, test: &str) -> Result<String, String> {
        let name = format!("t_{}", test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
        let port = self.port.to_string();
        self.pg("createdb", |c| {
            c.args(["-h", "127.0.0.1", "-p", &port, "-U", USER, &name])
        })?;
        Ok(self.url(&name))
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Runs one of PostgreSQL's programs, as `postgres` when we are root.
    fn pg(&self, program: &str, args: impl FnOnce(&mut Command) -> &mut Command) -> Result<(), String> {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(&path);
            command
        } else {
            Command::new(&path)
        };
        args(&mut command);
        command_ok(&mut command, program)
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        let data = self.data();
        if let Err(error) = self.pg("pg_ctl", |c| {
            c.arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"])
        }) {
            eprintln!("the PostgreSQL test cluster did not stop: {error}");
        }
        // The TempDir removes the directory when dropped after this.
    }
}

fn command_ok(command: &mut Command, what: &str) -> Result<(), String> {
    match command.output() {
        Ok(Output { status, .. }) if status.success() => Ok(()),
        Ok(output) => Err(format!(
            "{what} failed ({}): {}{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )),
        Err(error) => Err(format!("{what} could not run: {error}")),
    }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|error| format!("no free port: {error}"))?;
    listener
        .local_addr()
        .map(|address| address.port())
        .map_err(|error| error.to_string())
}

fn is_root() -> bool {
    let output = Command::new("id").arg("-u").output();
    output.is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}
