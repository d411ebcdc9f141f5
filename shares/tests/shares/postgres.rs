//! A throwaway PostgreSQL 15 cluster for this test binary: `initdb` and
//! `pg_ctl` in a temporary directory, on a free loopback port, as the
//! `postgres` user when the tests run as root (PostgreSQL refuses root).
//! Started by the first test that needs it, stopped and deleted by `main`
//! after the last test. Each test gets a database of its own.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::Mutex;
use std::time::Instant;

use sqlx::{AssertSqlSafe, Connection as _, PgConnection};
use tempfile::TempDir;

/// Debian 12's PostgreSQL 15; `COURIER_TEST_PG_BIN` names another directory.
const DEFAULT_BIN: &str = "/usr/lib/postgresql/15/bin";
const USER: &str = "courier";

/// The cluster, or why it could not start (every PostgreSQL test then fails with that sentence).
static CLUSTER: Mutex<Option<Result<Cluster, String>>> = Mutex::new(None);

struct Cluster {
    bin: PathBuf,
    dir: TempDir,
    port: u16,
    as_postgres: bool,
}

/// A URL for a new, empty database named after `test`, in the cluster
/// (started now if this is the first test to ask).
pub async fn database(test: &str) -> String {
    let admin = {
        let mut cluster = CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let cluster = cluster.get_or_insert_with(Cluster::start);
        match cluster {
            Ok(cluster) => cluster.url("postgres"),
            Err(why) => panic!("{why}"),
        }
    };
    let name = format!("t_{}", test.replace(|c: char| !c.is_ascii_alphanumeric(), "_"));
    let mut connection = PgConnection::connect(&admin)
        .await
        .expect("a connection to the test cluster");
    let create = format!("CREATE DATABASE \"{name}\"");
    sqlx::query(AssertSqlSafe(create))
        .execute(&mut connection)
        .await
        .expect("a test database");
    let url = admin.replace("/postgres", &format!("/{name}"));
    drop(connection.close().await);
    url
}

/// Stops and deletes the cluster, if one was started.
pub fn stop_cluster() {
    let cluster = CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    drop(cluster);
}

impl Cluster {
    fn start() -> Result<Self, String> {
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
            .prefix("courier-shares-pg-")
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

impl Drop for Cluster {
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
