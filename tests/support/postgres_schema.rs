//! A fresh PostgreSQL schema per test on the server at `OPENLIFT_TEST_DATABASE_URL`,
//! reached through `search_path`. Included with `#[path]` by the store's conformance
//! suite and the server's tests, which share no test crate.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::Connection;

/// The PostgreSQL server the PostgreSQL tests run against.
const DATABASE_URL_VAR: &str = "OPENLIFT_TEST_DATABASE_URL";
/// Set to `1` to skip (rather than fail) the PostgreSQL tests when no server is configured.
const SKIP_POSTGRES_VAR: &str = "OPENLIFT_SKIP_POSTGRES";

/// An empty schema of its own for one test; [`PostgresSchema::drop_schema`] removes it.
pub struct PostgresSchema {
    base: String,
    schema: String,
}

impl PostgresSchema {
    /// Creates a uniquely named schema. `None` only when PostgreSQL is explicitly skipped;
    /// a panic when `OPENLIFT_TEST_DATABASE_URL` is unset otherwise.
    pub async fn create() -> Option<Self> {
        let Ok(base) = std::env::var(DATABASE_URL_VAR) else {
            if std::env::var(SKIP_POSTGRES_VAR).as_deref() == Ok("1") {
                eprintln!("SKIPPED: PostgreSQL test ({SKIP_POSTGRES_VAR}=1)");
                return None;
            }
            panic!(
                "{DATABASE_URL_VAR} is not set: point it at a PostgreSQL database \
                 (e.g. postgres://postgres@127.0.0.1:5432/test) or set {SKIP_POSTGRES_VAR}=1 to skip"
            );
        };
        let schema = PostgresSchema { base, schema: unique_schema() };
        schema.admin(&format!("CREATE SCHEMA {}", schema.schema)).await;
        Some(schema)
    }

    /// The database URL whose connections create and find their tables in this schema.
    pub fn url(&self) -> String {
        let separator = if self.base.contains('?') { '&' } else { '?' };
        format!("{}{separator}options=-c%20search_path%3D{}", self.base, self.schema)
    }

    /// Drops the schema with everything in it.
    pub async fn drop_schema(&self) {
        self.admin(&format!("DROP SCHEMA {} CASCADE", self.schema)).await;
    }

    /// Runs one administrative statement on the server.
    async fn admin(&self, sql: &str) {
        let mut conn = sqlx::PgConnection::connect(&self.base).await.expect("connect to the PostgreSQL test server");
        sqlx::raw_sql(sqlx::AssertSqlSafe(sql.to_owned())).execute(&mut conn).await.expect("run an admin statement");
        conn.close().await.expect("close the admin connection");
    }
}

/// A schema name no other test, run or process uses.
fn unique_schema() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).expect("clock after 1970").subsec_nanos();
    format!("openlift_test_{}_{}_{nanos}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed))
}
