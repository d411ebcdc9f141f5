//! The share database's tests, each run on SQLite (a temporary directory)
//! and on PostgreSQL (a throwaway cluster this binary starts, shared by its
//! tests, each in a database of its own, and stopped after the last one).
//! A harness of our own (`libtest-mimic`) so the cluster can be stopped
//! once every test is done; `cargo test` filters and lists as usual.
//!
//! `COURIER_TEST_TIMES=1` prints each test's time on stderr.

mod backend;
mod combine;
mod owner;
mod postgres;
mod requests;
mod scenarios;
mod support;
mod sweep;

use std::future::Future;
use std::pin::Pin;
use std::process::ExitCode;
use std::time::Instant;

use backend::Backend;
use libtest_mimic::{Arguments, Trial};

type Scenario = fn(backend::NamedBackend) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Each scenario, named as its function, run on every backend.
macro_rules! scenarios {
    ($($module:ident::$name:ident),* $(,)?) => {
        [$((stringify!($name), (|backend| Box::pin($module::$name(backend))) as Scenario)),*]
    };
}

fn main() -> ExitCode {
    let arguments = Arguments::from_args();
    let scenarios = scenarios![
        scenarios::round_trip_with_several_files,
        scenarios::expired_share_is_refused,
        scenarios::revoked_share_is_refused,
        scenarios::limit_is_per_file,
        scenarios::concurrent_downloads_stop_at_the_limit,
        scenarios::two_instances_share_one_limit,
        scenarios::unknown_and_malformed_ids_are_not_found,
        scenarios::malformed_ids_cost_a_query_as_unknown_ones_do,
        scenarios::status_counts_migrations_and_reopening_applies_nothing_twice,
        scenarios::an_upgrade_to_0003_keeps_every_share,
        scenarios::invalid_shares_are_refused,
        scenarios::closed_database_is_unavailable,
        scenarios::an_upload_confirmed_again_keeps_its_share,
        scenarios::a_password_is_kept_as_its_hash,
        scenarios::a_download_given_back_is_not_counted,
        scenarios::a_download_without_the_password_counts_only_where_none_is_asked,
        scenarios::downloads_counted_in_batches_are_each_answered,
        scenarios::a_deleted_file_leaves_its_share_and_the_last_takes_it_back,
        scenarios::an_encrypted_file_is_downloaded_only_with_its_key_proved,
        scenarios::api_tokens_are_kept_by_hash_one_live_name_at_a_time,
        owner::owner_view_shows_a_share_in_every_state,
        owner::owner_views_reads_a_list_in_its_order,
        owner::set_rules_changes_what_was_asked,
        owner::set_rules_never_revives_a_share_taken_back_or_deleted,
        owner::a_rule_change_and_a_sweep_never_both_win,
        sweep::sweep_claims_what_is_over_after_its_grace,
        sweep::an_encrypted_download_under_way_keeps_its_file,
        sweep::sweep_claims_at_most_max,
        sweep::a_released_share_is_claimed_again,
        sweep::concurrent_sweeps_never_claim_a_share_twice,
        combine::combine_makes_one_share_of_several,
        combine::combine_is_all_or_nothing,
        combine::combine_and_downloads_at_once_never_lose_a_count,
        requests::a_request_holds_its_room_and_its_files_join_one_share,
        requests::a_request_refuses_once_closed_expired_or_unknown,
        requests::a_request_whose_share_was_taken_back_starts_another,
        requests::concurrent_grants_never_pass_a_request,
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
