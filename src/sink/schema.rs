//! The database schema: versioned migrations (the `.sql` files in `migrations/`), applied
//! in order at start, each once, under an advisory lock so that vantages starting together
//! do not race.
//!
//! `peerscope_migrations` records what was applied. A database migrated by a newer build
//! (a version this build does not know) is refused rather than written with an old idea
//! of the tables.

use tokio_postgres::Client;

use super::SinkError;

/// One migration.
pub struct Migration {
    pub version: i32,
    pub name: &'static str,
    pub sql: &'static str,
}

/// Every migration, oldest first. Never edit one that shipped: add the next.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "tables",
        sql: include_str!("migrations/0001_tables.sql"),
    },
    Migration {
        version: 2,
        name: "fleet views",
        sql: include_str!("migrations/0002_fleet_views.sql"),
    },
    Migration {
        version: 3,
        name: "cometbft",
        sql: include_str!("migrations/0003_cometbft.sql"),
    },
];

/// The schema version this build writes.
pub fn current_version() -> i32 {
    MIGRATIONS.last().map(|m| m.version).unwrap_or(0)
}

/// Key of the advisory lock held while migrating.
const MIGRATION_LOCK: i64 = 0x7065_6572_7363_6f70; // "peerscop"

/// Applies the migrations the database lacks; returns how many were applied.
pub async fn migrate(client: &mut Client) -> Result<usize, SinkError> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS peerscope_migrations (
                 version     integer PRIMARY KEY,
                 name        text NOT NULL,
                 applied_at  timestamptz NOT NULL DEFAULT now()
             )",
        )
        .await
        .or_else(|e| {
            // Two vantages creating the table at once: one gets a unique violation on
            // the type; the table exists either way.
            if e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) {
                Ok(())
            } else {
                Err(e)
            }
        })?;
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK])
        .await?;
    let applied: i32 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM peerscope_migrations",
            &[],
        )
        .await?
        .get(0);
    if applied > current_version() {
        return Err(SinkError::SchemaTooNew {
            found: applied,
            known: current_version(),
        });
    }
    let mut n = 0;
    for m in MIGRATIONS.iter().filter(|m| m.version > applied) {
        tx.batch_execute(m.sql)
            .await
            .map_err(|e| SinkError::Migration {
                version: m.version,
                source: e,
            })?;
        tx.execute(
            "INSERT INTO peerscope_migrations (version, name) VALUES ($1, $2)",
            &[&m.version, &m.name],
        )
        .await?;
        n += 1;
    }
    tx.commit().await?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_numbered_in_order_and_name_every_table() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i32 + 1, "{}", m.name);
        }
        let all: String = MIGRATIONS.iter().map(|m| m.sql).collect();
        for t in super::super::writer::TABLES {
            assert!(
                all.contains(&format!("CREATE TABLE {} (", t.name)),
                "{} has no CREATE TABLE",
                t.name
            );
            // A column is defined in its table's CREATE TABLE or added to it by a later
            // migration.
            for (col, _) in t.columns {
                assert!(
                    all.contains(&format!("\n    {col} "))
                        || all.contains(&format!("ALTER TABLE {} ADD COLUMN {col} ", t.name)),
                    "{}.{col} is not in the schema",
                    t.name
                );
            }
        }
    }
}
