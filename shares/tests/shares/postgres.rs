//! The PostgreSQL cluster this test binary shares: a throwaway cluster
//! (`courier_test_support::PgCluster`), started by the first test that needs
//! it, stopped and deleted by `main` after the last test. Each test gets a
//! database of its own.

use std::sync::Mutex;

use courier_test_support::PgCluster;

/// The cluster, or why it could not start (every PostgreSQL test then fails with that sentence).
static CLUSTER: Mutex<Option<Result<PgCluster, String>>> = Mutex::new(None);

/// A URL for a new, empty database named after `test`, in the cluster
/// (started now if this is the first test to ask).
pub async fn database(test: &str) -> String {
    let mut cluster = CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let cluster = cluster.get_or_insert_with(PgCluster::start);
    let database = match cluster {
        Ok(cluster) => cluster.database(test),
        Err(why) => Err(why.clone()),
    };
    database.unwrap_or_else(|why| panic!("{why}"))
}

/// Stops and deletes the cluster, if one was started.
pub fn stop_cluster() {
    let cluster = CLUSTER.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).take();
    drop(cluster);
}
