//! The share database's tests, each run on SQLite (a temporary directory)
//! and on PostgreSQL (a throwaway cluster this binary starts, shared by its
//! tests, each in a database of its own, and stopped after the last one).
//! A harness of our own (`libtest-mimic`) so the cluster can be stopped
//! once every test is done; `cargo test` filters and lists as usual.
//!
//! `COURIER_TEST_TIMES=1` prints each test's time on stderr.

mod backend;
mod postgres;
mod scenarios;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Instant;

use backend::Backend;
use libtest_mimic::{Arguments, Trial};

type Scenario = fn(backend::NamedBackend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Each scenario, named as its function, run on every backend.
macro_rules! scenarios {
    ($($name:ident),* $(,)?) => {
        [$((stringify!($name), (|backend| Box::pin(scenarios::$name(backend))) as Scenario)),*]
    };
}

fn main() -> ExitCode {
    let arguments = Arguments::from_args();
    let scenarios = scenarios![
        round_trip_with_several_files,
        expired_share_is_refused,
        revoked_share_is_refused,
        limit_is_per_file,
        concurrent_downloads_stop_at_the_limit,
        two_instances_share_one_limit,
        unknown_and_malformed_ids_are_not_found,
        status_counts_migrations_and_reopening_applies_nothing_twice,
        invalid_shares_are_refused,
        closed_database_is_unavailable,
        an_upload_confirmed_again_keeps_its_share,
    ];
    let mut trials = Vec::new();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        for (name, scenario) in scenarios {
            let full_name = format!("{}::{name}", backend.name());
            trials.push(Trial::test(full_name.clone(), move || {
                run(&full_name, scenario(backend.named(name)));
                Ok(())
            }));
        }
    }
    trials.push(Trial::test("sqlite::file_is_private_and_in_wal_mode", || {
        run(
            "sqlite::file_is_private_and_in_wal_mode",
            scenarios::sqlite_file_is_private_and_in_wal_mode(),
        );
        Ok(())
    }));
    trials.push(Trial::test(
        "postgres::unreachable_database_error_hides_the_password",
        || {
            run(
                "postgres::unreachable_database_error_hides_the_password",
                scenarios::unreachable_postgres_hides_the_password(),
            );
            Ok(())
        },
    ));
    let conclusion = libtest_mimic::run(&arguments, trials);
    postgres::stop_cluster();
    conclusion.exit_code()
}

/// Runs one test on a runtime of its own (a panic fails just that test).
fn run(name: &str, test: impl Future<Output = ()>) {
    let started = Instant::now();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(4)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(test);
    if std::env::var_os("COURIER_TEST_TIMES").is_some() {
        eprintln!("time {name}: {} ms", started.elapsed().as_millis());
    }
}
