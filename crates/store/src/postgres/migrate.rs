//! Applies the schema migrations (`crate::migrations`, in PostgreSQL's dialect) at connect time.
//!
//! Each migration runs in its own transaction, which first takes a
//! transaction-scoped advisory lock (released at commit or rollback, even if the
//! connection dies), then creates `schema_migrations` if needed and applies the
//! migration unless it is recorded there. DDL is transactional in PostgreSQL, so
//! a migration is either applied and recorded or not at all.

use sqlx::PgPool;

use super::backend;
use crate::StoreError;
use crate::migrations::{MIGRATIONS, Migration};
use crate::sql::{self, Dialect};

/// The advisory lock key serializing migrations ("openlift" in ASCII).
const MIGRATION_LOCK: i64 = 0x6f70_656e_6c69_6674;

/// Applies every migration not yet recorded in `schema_migrations`.
pub(super) async fn apply(pool: &PgPool) -> Result<(), StoreError> {
    apply_these(pool, MIGRATIONS).await
}

/// Applies those of `migrations` not yet recorded in `schema_migrations`.
async fn apply_these(pool: &PgPool, migrations: &[Migration]) -> Result<(), StoreError> {
    for migration in migrations {
        let mut tx = pool.begin().await.map_err(backend)?;
        sqlx::query(sql::postgres::ADVISORY_LOCK).bind(MIGRATION_LOCK).execute(&mut *tx).await.map_err(backend)?;
        sqlx::query(sql::postgres::MIGRATIONS_TABLE).execute(&mut *tx).await.map_err(backend)?;
        let applied: Option<i64> = sqlx::query_scalar(sql::MIGRATION_APPLIED.postgres)
            .bind(migration.version)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        if applied.is_none() {
            let sql = migration.sql(Dialect::Postgres)?;
            sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&mut *tx).await.map_err(backend)?;
            sqlx::query(sql::postgres::MIGRATION_RECORD)
                .bind(migration.version)
                .bind(migration.name)
                .execute(&mut *tx)
                .await
                .map_err(backend)?;
        }
        tx.commit().await.map_err(backend)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use sqlx::postgres::PgPoolOptions;

    use super::*;
    use crate::postgres_schema::PostgresSchema;

    /// Every column, index and constraint of the current schema, by name, with what
    /// defines it: a column's type, nullability, default, identity and collation, an
    /// index's definition, a constraint's kind and definition.
    const SCHEMA_OBJECTS: &str = "\
        SELECT 'column ' || table_name || '.' || column_name, concat_ws(' ', data_type, \
            'nullable=' || is_nullable, 'default=' || column_default, 'identity=' || identity_generation, \
            'collation=' || collation_name, 'position=' || ordinal_position) \
        FROM information_schema.columns WHERE table_schema = current_schema() \
        UNION ALL SELECT 'index ' || indexname, replace(indexdef, current_schema() || '.', '') \
        FROM pg_indexes WHERE schemaname = current_schema() \
        UNION ALL SELECT 'constraint ' || conrelid::regclass::text || '.' || conname, \
            contype::text || ' ' || pg_get_constraintdef(oid) \
        FROM pg_constraint WHERE connamespace = current_schema()::regnamespace";

    /// What each migration changed in the schema: one section per migration, listing the
    /// columns, indexes and constraints it created or changed (`+`, with their definition)
    /// and dropped (`-`).
    async fn schema_changes_of_each_migration(pool: &PgPool) -> String {
        let mut before = BTreeMap::new();
        let mut changes = String::new();
        for (applied, migration) in MIGRATIONS.iter().enumerate() {
            apply_these(pool, &MIGRATIONS[..=applied]).await.unwrap();
            let after: BTreeMap<String, String> =
                sqlx::query_as(SCHEMA_OBJECTS).fetch_all(pool).await.unwrap().into_iter().collect();
            crate::migrations::describe_changes(&mut changes, migration, &before, &after);
            before = after;
        }
        changes
    }

    /// Databases in users' hands were created by earlier releases, which record applied
    /// migrations by version only: each migration must create exactly the schema it
    /// always did (`migrations/schema/postgres.txt`, captured from the PostgreSQL files of
    /// the migrations before each was written once for both backends).
    #[tokio::test]
    async fn each_migration_creates_the_schema_it_always_did() {
        let Some(schema) = PostgresSchema::create().await else { return };
        let pool = PgPoolOptions::new().max_connections(1).connect(&schema.url()).await.unwrap();
        let changes = schema_changes_of_each_migration(&pool).await;
        pool.close().await;
        schema.drop_schema().await;
        assert_eq!(changes, include_str!("../../migrations/schema/postgres.txt"));
    }
}
