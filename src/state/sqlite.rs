//! SQLite backend: one file, WAL journal, one transaction per recorded push.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::codec::FieldCodec;
use super::error::{SourceError, StateError, sql};
use super::items;
use super::items::hash_from_bytes;
use super::schema::{MIGRATIONS, current_version};
use super::{
    FeedCounts, Fields, ItemRejection, Outcome, PendingRejection, PushSummary, PushedItem,
    RunDetail, RunFeed, RunId, RunSummary, StateStore,
};

/// How long a writer waits for another omnifeed process holding the lock (a cron run
/// overlapping a manual one) before giving up with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub struct SqliteStore {
    conn: Connection,
    path: PathBuf,
    /// The field dictionary as of the last committed [`StateStore::record_push`], so an
    /// item-level push that records every batch in its own transaction loads it once, not
    /// once per batch. Taken out while a transaction runs and put back only after its
    /// commit: a rolled-back transaction leaves `None` (the next one reloads), so ids the
    /// store never kept cannot be handed out again. The project lock keeps other processes
    /// from writing the dictionary meanwhile.
    codec: Option<FieldCodec>,
}

impl SqliteStore {
    /// Opens (creating if needed) the store at `path`, creating parent directories and
    /// bringing the schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StateError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StateError::CreateDir {
                path: dir.to_owned(),
                source,
            })?;
        }
        let open_err = |source| StateError::Open {
            path: path.to_owned(),
            source,
        };
        let mut conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // WAL: readers (`omnifeed diff`, `state runs`) never block a push, and a crash
        // mid-commit leaves the previous state intact.
        let mode: String = conn
            .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StateError::Open {
                path: path.to_owned(),
                source: rusqlite::Error::InvalidParameterName(format!(
                    "journal_mode stayed `{mode}` instead of `wal`"
                )),
            });
        }
        // FULL rather than NORMAL: we commit once per push, so the extra fsync per commit
        // costs next to nothing, and in exchange a recorded push survives a power loss too.
        // With NORMAL the last push could be forgotten and the run history would disagree
        // with what the channel holds.
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(open_err)?;
        conn.pragma_update(None, "foreign_keys", true)
            .map_err(open_err)?;
        migrate(&mut conn, path)?;
        Ok(SqliteStore {
            conn,
            path: path.to_owned(),
            codec: None,
        })
    }

    /// Opens an existing store for reading only, for `diff` and `runs`: never creates,
    /// migrates or writes it, and reads it in one read transaction, so every query of the
    /// command sees the same snapshot even while a push commits. `None` when there is no
    /// history: no file, an empty file, or a store never written to.
    pub fn open_read_only(path: &Path) -> Result<Option<SqliteStore>, StateError> {
        match std::fs::metadata(path) {
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Ok(meta) if meta.len() == 0 => return Ok(None),
            _ => {}
        }
        let open_err = |source| StateError::Open {
            path: path.to_owned(),
            source,
        };
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        // DEFERRED: the snapshot starts at the first read, just below, and lasts until the
        // connection closes; a reader in WAL mode never blocks a writer.
        conn.execute_batch("BEGIN DEFERRED").map_err(open_err)?;
        let version: i64 = conn
            .query_row("SELECT COUNT(*) FROM sqlite_schema", [], |_| Ok(()))
            .and_then(|()| conn.pragma_query_value(None, "user_version", |row| row.get(0)))
            .map_err(open_err)?;
        match version {
            0 => Ok(None),
            found if found > current_version() => Err(StateError::TooNew {
                path: path.to_owned(),
                found,
                known: current_version(),
            }),
            found if found < current_version() => Err(StateError::TooOld {
                path: path.to_owned(),
                found,
                known: current_version(),
            }),
            _ => Ok(Some(SqliteStore {
                conn,
                path: path.to_owned(),
                codec: None,
            })),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Marks runs still `running` as `interrupted`: their process died. Only a run that
    /// holds the project lock may call this, since no other run can be going then.
    pub fn interrupt_running(&mut self) -> Result<u64, StateError> {
        let changed = self
            .conn
            .execute(
                "UPDATE runs SET outcome = ?1 WHERE outcome = ?2",
                params![Outcome::Interrupted.as_str(), Outcome::Running.as_str()],
            )
            .map_err(sql("marking interrupted runs"))?;
        Ok(changed as u64)
    }

    /// Notes, before delivering, that `run` sends `records` records of `feed`: if the run
    /// dies before recording, the state still knows the destination may hold them.
    pub fn mark_sending(&mut self, run: RunId, feed: &str, records: u64) -> Result<(), StateError> {
        self.conn
            .execute(
                "UPDATE run_feeds SET sent = ?3 WHERE run_id = ?1 AND feed = ?2",
                params![run.0, feed, to_i64(records)],
            )
            .map_err(sql("noting a delivery"))?;
        Ok(())
    }

    /// Whether the state has a history of `feed`: a run recorded it, or started delivering
    /// it (see [`SqliteStore::mark_sending`]) and may have been killed before recording.
    pub fn has_history(&self, feed: &str) -> Result<bool, StateError> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM run_feeds
                                WHERE feed = ?1 AND (recorded_at IS NOT NULL OR sent > 0))",
                params![feed],
                |row| row.get(0),
            )
            .map_err(sql("reading a feed's history"))
    }

    /// The schema version stored in the file (`PRAGMA user_version`).
    pub fn schema_version(&self) -> Result<i64, StateError> {
        self.conn
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql("reading the schema version"))
    }
}

/// Applies the missing migrations, each in its own transaction together with the version bump,
/// so a crash between two migrations leaves a consistent, resumable version.
fn migrate(conn: &mut Connection, path: &Path) -> Result<(), StateError> {
    loop {
        // IMMEDIATE takes the write lock before reading the version, so two processes
        // opening a fresh store at once do not both apply the same migration.
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(|source| StateError::Open {
                path: path.to_owned(),
                source,
            })?;
        let version: i64 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(sql("reading the schema version"))?;
        if version > current_version() {
            return Err(StateError::TooNew {
                path: path.to_owned(),
                found: version,
                known: current_version(),
            });
        }
        let Some(migration) = usize::try_from(version)
            .ok()
            .and_then(|v| MIGRATIONS.get(v))
        else {
            return Ok(());
        };
        let next = version + 1;
        let migrate_err = |source| StateError::Migrate {
            path: path.to_owned(),
            version: next,
            source,
        };
        migration.apply(&tx).map_err(migrate_err)?;
        tx.pragma_update(None, "user_version", next)
            .map_err(migrate_err)?;
        tx.commit().map_err(migrate_err)?;
    }
}

pub(super) fn to_micros(t: Timestamp) -> i64 {
    t.as_microsecond()
}

pub(super) fn from_micros(what: &str, micros: i64) -> Result<Timestamp, StateError> {
    Timestamp::from_microsecond(micros).map_err(|err| StateError::Corrupt {
        what: what.to_owned(),
        reason: err.to_string(),
    })
}

fn opt_from_micros(what: &str, micros: Option<i64>) -> Result<Option<Timestamp>, StateError> {
    micros.map(|m| from_micros(what, m)).transpose()
}

/// SQLite integers are signed; counts beyond i64 cannot happen in practice, so saturate.
fn to_i64(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn to_u64(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

impl StateStore for SqliteStore {
    fn begin_run(
        &mut self,
        command: &str,
        feeds: &[&str],
        catalog_modified_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<RunId, StateError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("starting a run"))?;
        tx.execute(
            "INSERT INTO runs (started_at, command, outcome, catalog_modified_at)
             VALUES (?1, ?2, ?3, ?4)",
            params![
                to_micros(now),
                command,
                Outcome::Running.as_str(),
                catalog_modified_at.map(to_micros)
            ],
        )
        .map_err(sql("starting a run"))?;
        let id = tx.last_insert_rowid();
        {
            let mut insert = tx
                .prepare("INSERT OR IGNORE INTO run_feeds (run_id, feed) VALUES (?1, ?2)")
                .map_err(sql("starting a run"))?;
            for feed in feeds {
                insert
                    .execute(params![id, feed])
                    .map_err(sql("starting a run"))?;
            }
        }
        tx.commit().map_err(sql("starting a run"))?;
        Ok(RunId(id))
    }

    fn finish_run(
        &mut self,
        run: RunId,
        outcome: Outcome,
        counts: &[(&str, FeedCounts)],
        now: Timestamp,
    ) -> Result<(), StateError> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql("finishing a run"))?;
        let updated = tx
            .execute(
                "UPDATE runs SET ended_at = ?2, outcome = ?3 WHERE id = ?1",
                params![run.0, to_micros(now), outcome.as_str()],
            )
            .map_err(sql("finishing a run"))?;
        if updated == 0 {
            return Err(StateError::UnknownRun(run.0));
        }
        {
            let mut upsert = tx
                .prepare(
                    "INSERT INTO run_feeds
                         (run_id, feed, added, changed, removed, unchanged, sent, accepted, rejected)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                     ON CONFLICT (run_id, feed) DO UPDATE SET
                         added = excluded.added, changed = excluded.changed,
                         removed = excluded.removed, unchanged = excluded.unchanged,
                         sent = excluded.sent, accepted = excluded.accepted,
                         rejected = excluded.rejected",
                )
                .map_err(sql("finishing a run"))?;
            for (feed, c) in counts {
                upsert
                    .execute(params![
                        run.0,
                        feed,
                        to_i64(c.added),
                        to_i64(c.changed),
                        to_i64(c.removed),
                        to_i64(c.unchanged),
                        to_i64(c.sent),
                        to_i64(c.accepted),
                        to_i64(c.rejected),
                    ])
                    .map_err(sql("finishing a run"))?;
            }
        }
        tx.commit().map_err(sql("finishing a run"))
    }

    fn accepted_hashes(&self, feed: &str) -> Result<HashMap<String, u128>, StateError> {
        let mut hashes = HashMap::new();
        items::for_each_accepted(&self.conn, feed, &mut |key, hash| {
            hashes.insert(key.to_owned(), hash);
        })?;
        Ok(hashes)
    }

    fn for_each_accepted(
        &self,
        feed: &str,
        each: &mut dyn FnMut(&str, u128),
    ) -> Result<(), StateError> {
        items::for_each_accepted(&self.conn, feed, each)
    }

    fn accepted_fields(
        &self,
        feed: &str,
        keys: &[&str],
    ) -> Result<HashMap<String, Fields>, StateError> {
        items::accepted_fields(&self.conn, feed, keys)
    }

    fn record_push<I, E>(
        &mut self,
        feed: &str,
        run: RunId,
        items: I,
        removed: &[&str],
        now: Timestamp,
    ) -> Result<PushSummary, StateError>
    where
        I: IntoIterator<Item = Result<PushedItem, E>>,
        E: Into<SourceError>,
    {
        items::record_push(
            &mut self.conn,
            &mut self.codec,
            feed,
            run,
            items,
            removed,
            now,
        )
    }

    fn pending_rejections(&self, feed: &str) -> Result<Vec<PendingRejection>, StateError> {
        const ACTION: &str = "listing rejected items";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, verdict, coalesce(rejections, 1), sent_hash FROM items
                 WHERE feed = ?1 AND verdict IS NOT NULL ORDER BY key",
            )
            .map_err(sql(ACTION))?;
        let rows = stmt
            .query_map(params![feed], |row| {
                Ok((
                    row.get::<_, String>(0)?,
                    row.get::<_, String>(1)?,
                    row.get::<_, i64>(2)?,
                    row.get::<_, Option<Vec<u8>>>(3)?,
                ))
            })
            .map_err(sql(ACTION))?;
        let mut pending = Vec::new();
        for row in rows {
            let (key, reason, rejections, sent_hash) = row.map_err(sql(ACTION))?;
            let sent_hash = match sent_hash {
                Some(bytes) => hash_from_bytes(feed, &key, &bytes)?,
                None => 0,
            };
            pending.push(PendingRejection {
                key,
                reason,
                rejections: u32::try_from(rejections).unwrap_or(u32::MAX),
                sent_hash,
            });
        }
        Ok(pending)
    }

    fn stale_items(&self, feed: &str, older_than: Timestamp) -> Result<Vec<String>, StateError> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key FROM items
                 WHERE feed = ?1 AND accepted_at < ?2 ORDER BY key",
            )
            .map_err(sql("listing stale items"))?;
        let keys = stmt
            .query_map(params![feed, to_micros(older_than)], |row| row.get(0))
            .map_err(sql("listing stale items"))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(sql("listing stale items"))?;
        Ok(keys)
    }

    fn last_catalog_time(&self, feed: &str) -> Result<Option<Timestamp>, StateError> {
        let micros: Option<i64> = self
            .conn
            .query_row(
                "SELECT MAX(r.catalog_modified_at) FROM run_feeds f JOIN runs r ON r.id = f.run_id
                 WHERE f.feed = ?1 AND f.recorded_at IS NOT NULL",
                params![feed],
                |row| row.get(0),
            )
            .map_err(sql("reading the last pushed catalog time"))?;
        opt_from_micros("runs.catalog_modified_at", micros)
    }

    fn runs(&self, limit: u32) -> Result<Vec<RunSummary>, StateError> {
        let ids: Vec<i64> = {
            let mut stmt = self
                .conn
                .prepare("SELECT id FROM runs ORDER BY id DESC LIMIT ?1")
                .map_err(sql("listing runs"))?;
            stmt.query_map(params![limit], |row| row.get(0))
                .map_err(sql("listing runs"))?
                .collect::<Result<_, _>>()
                .map_err(sql("listing runs"))?
        };
        let mut runs = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(summary) = self.summary(RunId(id))? {
                runs.push(summary);
            }
        }
        Ok(runs)
    }

    fn run(&self, id: RunId) -> Result<Option<RunDetail>, StateError> {
        let Some(summary) = self.summary(id)? else {
            return Ok(None);
        };
        let mut stmt = self
            .conn
            .prepare(
                "SELECT feed, added, changed, removed, unchanged, sent, accepted, rejected,
                        recorded_at
                 FROM run_feeds WHERE run_id = ?1 ORDER BY feed",
            )
            .map_err(sql("reading a run"))?;
        let rows = stmt
            .query_map(params![id.0], |row| {
                let counts = FeedCounts {
                    added: to_u64(row.get(1)?),
                    changed: to_u64(row.get(2)?),
                    removed: to_u64(row.get(3)?),
                    unchanged: to_u64(row.get(4)?),
                    sent: to_u64(row.get(5)?),
                    accepted: to_u64(row.get(6)?),
                    rejected: to_u64(row.get(7)?),
                };
                Ok((
                    row.get::<_, String>(0)?,
                    counts,
                    row.get::<_, Option<i64>>(8)?,
                ))
            })
            .map_err(sql("reading a run"))?;
        let mut feeds = Vec::new();
        for row in rows {
            let (feed, counts, recorded_at) = row.map_err(sql("reading a run"))?;
            let rejected_items = self.run_rejections(id, &feed)?;
            feeds.push(RunFeed {
                feed,
                counts,
                rejected_items,
                recorded_at: opt_from_micros("run_feeds.recorded_at", recorded_at)?,
            });
        }
        Ok(Some(RunDetail { summary, feeds }))
    }
}

impl SqliteStore {
    /// The items of `feed` the channel rejected in `run`, sorted by key.
    fn run_rejections(&self, run: RunId, feed: &str) -> Result<Vec<ItemRejection>, StateError> {
        const ACTION: &str = "reading a run's rejected items";
        let mut stmt = self
            .conn
            .prepare(
                "SELECT key, reason FROM rejections WHERE run_id = ?1 AND feed = ?2 ORDER BY key",
            )
            .map_err(sql(ACTION))?;
        stmt.query_map(params![run.0, feed], |row| {
            Ok(ItemRejection {
                key: row.get(0)?,
                reason: row.get(1)?,
            })
        })
        .map_err(sql(ACTION))?
        .collect::<Result<_, _>>()
        .map_err(sql(ACTION))
    }

    fn summary(&self, id: RunId) -> Result<Option<RunSummary>, StateError> {
        let row = self
            .conn
            .query_row(
                "SELECT started_at, ended_at, command, outcome, catalog_modified_at
                 FROM runs WHERE id = ?1",
                params![id.0],
                |row| {
                    Ok((
                        row.get::<_, i64>(0)?,
                        row.get::<_, Option<i64>>(1)?,
                        row.get::<_, String>(2)?,
                        row.get::<_, String>(3)?,
                        row.get::<_, Option<i64>>(4)?,
                    ))
                },
            )
            .optional()
            .map_err(sql("reading a run"))?;
        let Some((started, ended, command, outcome, catalog)) = row else {
            return Ok(None);
        };
        let outcome = Outcome::parse(&outcome).ok_or_else(|| StateError::Corrupt {
            what: format!("runs.outcome of run {}", id.0),
            reason: format!("unknown outcome `{outcome}`"),
        })?;
        let mut stmt = self
            .conn
            .prepare("SELECT feed FROM run_feeds WHERE run_id = ?1 ORDER BY feed")
            .map_err(sql("reading a run"))?;
        let feeds = stmt
            .query_map(params![id.0], |row| row.get(0))
            .map_err(sql("reading a run"))?
            .collect::<Result<Vec<String>, _>>()
            .map_err(sql("reading a run"))?;
        Ok(Some(RunSummary {
            id,
            started_at: from_micros("runs.started_at", started)?,
            ended_at: opt_from_micros("runs.ended_at", ended)?,
            command,
            feeds,
            outcome,
            catalog_modified_at: opt_from_micros("runs.catalog_modified_at", catalog)?,
        }))
    }
}
