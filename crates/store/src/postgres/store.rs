//! The store traits for [`PostgresStore`]: single statements run on the pool, the
//! multi-statement writes are the transactions of `writes`.

use async_trait::async_trait;
use openlift_core::records::{
    AliasRecord, AuthToken, ComputeRecord, Fleet, FleetEvent, GameSessionRecord, Location, PlayerSessionRecord,
    ProcessLogs, ServerProcessRecord,
};
use openlift_model::{Tag, Timestamp};
use serde::de::DeserializeOwned;

use super::{PostgresStore, backend, sessions, writes};
use crate::common::{
    AliasRow, FleetRow, GameSessionRow, Listing, PlayerSessionRow, after_ascending, after_descending, event_rows,
    fetch_limit, fleet_event_rows, from_doc, outbox_events, page_of, random_secret, to_doc,
};
use crate::prelude::*;
use crate::sql::{self, Dialect};
use crate::{
    AliasFilter, ComputeChange, EventFilter, GameSessionFilter, OutboxEvent, Page, PageRequest, PlayerSessionFilter,
    ProcessHost, Sequenced, SessionChange, StoreError, Versioned,
};

/// `(cursor, document)` rows of a listing.
type Rows = Vec<(i64, String)>;

impl PostgresStore {
    /// The document `statement` selects by `key`, decoded.
    async fn get_doc<T: DeserializeOwned>(&self, statement: &'static str, key: &str) -> Result<Option<T>, StoreError> {
        let doc: Option<String> =
            sqlx::query_scalar(statement).bind(key).fetch_optional(&self.pool).await.map_err(backend)?;
        doc.as_deref().map(from_doc).transpose()
    }

    /// The document and version `statement` selects by `key`, decoded.
    async fn get_versioned<T: DeserializeOwned>(
        &self,
        statement: &'static str,
        key: &str,
    ) -> Result<Option<Versioned<T>>, StoreError> {
        let row: Option<(String, i64)> =
            sqlx::query_as(statement).bind(key).fetch_optional(&self.pool).await.map_err(backend)?;
        row.map(|(doc, version)| Ok(Versioned { value: from_doc(&doc)?, version })).transpose()
    }
}

#[async_trait]
impl Secrets for PostgresStore {
    async fn secret(&self, name: &str, len: usize) -> Result<Vec<u8>, StoreError> {
        let select = sql::SECRET_GET.postgres;
        let stored: Option<Vec<u8>> =
            sqlx::query_scalar(select).bind(name).fetch_optional(&self.pool).await.map_err(backend)?;
        if let Some(value) = stored {
            return Ok(value);
        }
        sqlx::query(sql::SECRET_INSERT.postgres)
            .bind(name)
            .bind(random_secret(len))
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        sqlx::query_scalar(select).bind(name).fetch_one(&self.pool).await.map_err(backend)
    }
}

#[async_trait]
impl Locations for PostgresStore {
    async fn create_location(&self, location: &Location, tags: &[Tag]) -> Result<(), StoreError> {
        writes::create_location(&self.pool, &location.name, &location.arn, &to_doc(location)?, tags).await
    }

    async fn get_location(&self, name: &str) -> Result<Option<Location>, StoreError> {
        self.get_doc(sql::LOCATION_GET.postgres, name).await
    }

    async fn list_locations(&self, page: PageRequest) -> Result<Page<Location>, StoreError> {
        let rows: Rows = sqlx::query_as(sql::LOCATIONS_LIST.postgres)
            .bind(after_ascending(page.after))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        page_of(rows, page.limit)
    }

    async fn delete_location(&self, name: &str) -> Result<(), StoreError> {
        writes::delete_tagged(&self.pool, sql::LOCATION_DELETE.postgres, name).await
    }
}

#[async_trait]
impl Outbox for PostgresStore {
    async fn append_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        let events = event_rows(events)?;
        let mut tx = self.pool.begin().await.map_err(backend)?;
        writes::append_events(&mut tx, &events).await?;
        tx.commit().await.map_err(backend)
    }

    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Sequenced<OutboxEvent>>, StoreError> {
        let rows = sqlx::query_as(sql::EVENTS_AFTER.postgres)
            .bind(after)
            .bind(i64::try_from(limit).unwrap_or(i64::MAX))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        outbox_events(rows)
    }
}

#[async_trait]
impl Fleets for PostgresStore {
    async fn create_fleet(&self, fleet: &Fleet, events: &[FleetEvent], tags: &[Tag]) -> Result<(), StoreError> {
        writes::create_fleet(&self.pool, &FleetRow::new(fleet)?, &fleet_event_rows(events)?, tags).await
    }

    async fn get_fleet(&self, fleet_id: &str) -> Result<Option<Versioned<Fleet>>, StoreError> {
        self.get_versioned(sql::FLEET_GET.postgres, fleet_id).await
    }

    async fn list_fleets(&self, include_terminated: bool, page: PageRequest) -> Result<Page<Fleet>, StoreError> {
        let rows: Rows = sqlx::query_as(sql::FLEETS_LIST.postgres)
            .bind(after_ascending(page.after))
            .bind(include_terminated)
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        page_of(rows, page.limit)
    }

    async fn fleets_in_location(&self, location: &str) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(sql::FLEETS_IN_LOCATION.postgres).bind(location).fetch_all(&self.pool).await.map_err(backend)
    }

    async fn update_fleet(
        &self,
        fleet: &Fleet,
        expected_version: i64,
        events: &[FleetEvent],
    ) -> Result<i64, StoreError> {
        writes::update_fleet(&self.pool, &FleetRow::new(fleet)?, expected_version, &fleet_event_rows(events)?).await
    }

    async fn list_fleet_events(
        &self,
        fleet_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<FleetEvent>, StoreError> {
        let rows: Rows = sqlx::query_as(sql::FLEET_EVENTS_LIST.postgres)
            .bind(fleet_id)
            .bind(after_descending(page.after))
            .bind(filter.start.map(Timestamp::as_millis))
            .bind(filter.end.map(Timestamp::as_millis))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        page_of(rows, page.limit)
    }
}

#[async_trait]
impl Computes for PostgresStore {
    async fn create_compute(&self, compute: &ComputeRecord) -> Result<(), StoreError> {
        let c = &compute.compute;
        let (fleet_id, name) =
            (c.fleet_id.as_deref().unwrap_or_default(), c.compute_name.as_deref().unwrap_or_default());
        writes::create_compute(&self.pool, fleet_id, name, c.location.as_deref(), &to_doc(compute)?).await
    }

    async fn get_compute(&self, fleet_id: &str, compute_name: &str) -> Result<Option<ComputeRecord>, StoreError> {
        let doc: Option<String> = sqlx::query_scalar(sql::COMPUTE_GET.postgres)
            .bind(fleet_id)
            .bind(compute_name)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn list_computes(
        &self,
        fleet_id: &str,
        location: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ComputeRecord>, StoreError> {
        let rows: Rows = sqlx::query_as(sql::COMPUTES_LIST.postgres)
            .bind(fleet_id)
            .bind(location)
            .bind(after_ascending(page.after))
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        page_of(rows, page.limit)
    }

    async fn change_compute(
        &self,
        fleet_id: &str,
        compute_name: &str,
        change: ComputeChange,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        let doc: Option<String> = sqlx::query_scalar(sql::postgres::COMPUTE_LOCK)
            .bind(fleet_id)
            .bind(compute_name)
            .fetch_optional(&mut *tx)
            .await
            .map_err(backend)?;
        let mut compute: ComputeRecord = from_doc(&doc.ok_or(StoreError::NotFound)?)?;
        if !change.apply(&mut compute) {
            return Ok(false);
        }
        sqlx::query(sql::COMPUTE_UPDATE.postgres)
            .bind(fleet_id)
            .bind(compute_name)
            .bind(to_doc(&compute)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)?;
        Ok(true)
    }

    async fn delete_compute(&self, fleet_id: &str, compute_name: &str) -> Result<(), StoreError> {
        match writes::delete_compute(&self.pool, fleet_id, compute_name).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn put_auth_token(&self, token: &AuthToken, now: Timestamp) -> Result<(), StoreError> {
        writes::put_auth_token(&self.pool, token, &to_doc(token)?, now.as_millis()).await
    }

    async fn get_auth_token(&self, digest: &str) -> Result<Option<AuthToken>, StoreError> {
        self.get_doc(sql::AUTH_TOKEN_GET.postgres, digest).await
    }
}

#[async_trait]
impl Aliases for PostgresStore {
    async fn create_alias(&self, alias: &AliasRecord, tags: &[Tag]) -> Result<(), StoreError> {
        writes::create_alias(&self.pool, &AliasRow::new(alias)?, tags).await
    }

    async fn get_alias(&self, alias_id: &str) -> Result<Option<Versioned<AliasRecord>>, StoreError> {
        self.get_versioned(sql::ALIAS_GET.postgres, alias_id).await
    }

    async fn list_aliases(&self, filter: &AliasFilter, page: PageRequest) -> Result<Page<AliasRecord>, StoreError> {
        let rows: Rows = sqlx::query_as(sql::ALIASES_LIST.postgres)
            .bind(after_ascending(page.after))
            .bind(filter.routing_strategy_type.as_deref())
            .bind(filter.name.as_deref())
            .bind(fetch_limit(page.limit))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)?;
        page_of(rows, page.limit)
    }

    async fn update_alias(&self, alias: &AliasRecord, expected_version: i64) -> Result<i64, StoreError> {
        writes::update_alias(&self.pool, &AliasRow::new(alias)?, expected_version).await
    }

    async fn delete_alias(&self, alias_id: &str) -> Result<(), StoreError> {
        writes::delete_tagged(&self.pool, sql::ALIAS_DELETE.postgres, alias_id).await
    }
}

#[async_trait]
impl Tags for PostgresStore {
    async fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, StoreError> {
        let rows: Vec<(String, String)> =
            sqlx::query_as(sql::TAGS_LIST.postgres).bind(arn).fetch_all(&self.pool).await.map_err(backend)?;
        Ok(rows.into_iter().map(|(key, value)| Tag { key, value }).collect())
    }

    async fn tag_resource(&self, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        writes::put_tags(&mut tx, arn, tags).await?;
        tx.commit().await.map_err(backend)
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), StoreError> {
        writes::untag_resource(&self.pool, arn, keys).await
    }

    async fn delete_tags(&self, arn: &str) -> Result<(), StoreError> {
        sqlx::query(sql::TAGS_DELETE.postgres).bind(arn).execute(&self.pool).await.map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl Sessions for PostgresStore {
    async fn create_game_session(&self, session: &GameSessionRecord) -> Result<(), StoreError> {
        sessions::create_game_session(&self.pool, &GameSessionRow::new(session)?).await
    }

    async fn get_game_session(
        &self,
        game_session_id: &str,
    ) -> Result<Option<Versioned<GameSessionRecord>>, StoreError> {
        self.get_versioned(sql::GAME_SESSION_GET.postgres, game_session_id).await
    }

    async fn get_game_session_by_token(&self, token: &str) -> Result<Option<Versioned<GameSessionRecord>>, StoreError> {
        self.get_versioned(sql::GAME_SESSION_BY_TOKEN.postgres, token).await
    }

    async fn update_game_session(&self, session: &GameSessionRecord, expected_version: i64) -> Result<i64, StoreError> {
        sessions::update_game_session(&self.pool, &GameSessionRow::new(session)?, expected_version).await
    }

    async fn list_game_sessions(
        &self,
        filter: &GameSessionFilter,
        page: PageRequest,
    ) -> Result<Page<GameSessionRecord>, StoreError> {
        let listing = Listing::game_sessions(filter, after_ascending(page.after), page.limit, Dialect::Postgres);
        page_of(sessions::list(&self.pool, listing).await?, page.limit)
    }

    async fn count_game_sessions_by_creator(
        &self,
        fleet_id: &str,
        creator_id: &str,
        since: Timestamp,
    ) -> Result<usize, StoreError> {
        sessions::count_by_creator(&self.pool, fleet_id, creator_id, since.as_millis()).await
    }

    async fn add_player_sessions(
        &self,
        session: &GameSessionRecord,
        expected_version: i64,
        players: &[PlayerSessionRecord],
    ) -> Result<i64, StoreError> {
        let (row, players) = (GameSessionRow::new(session)?, PlayerSessionRow::all(players)?);
        sessions::add_player_sessions(&self.pool, &row, expected_version, &players).await
    }

    async fn change_sessions(&self, change: SessionChange<'_>) -> Result<(), StoreError> {
        let session =
            change.session.map(|(s, version)| GameSessionRow::new(s).map(|row| (row, version))).transpose()?;
        let players = change.players.iter().map(PlayerSessionRow::new).collect::<Result<Vec<_>, _>>()?;
        let session = session.as_ref().map(|(row, version)| (row, *version));
        sessions::change(&self.pool, session, &players, &event_rows(change.events)?).await
    }

    async fn get_player_session(&self, player_session_id: &str) -> Result<Option<PlayerSessionRecord>, StoreError> {
        self.get_doc(sql::PLAYER_SESSION_GET.postgres, player_session_id).await
    }

    async fn list_player_sessions(
        &self,
        filter: &PlayerSessionFilter,
        page: PageRequest,
    ) -> Result<Page<PlayerSessionRecord>, StoreError> {
        let listing = Listing::player_sessions(filter, after_ascending(page.after), page.limit, Dialect::Postgres);
        page_of(sessions::list(&self.pool, listing).await?, page.limit)
    }

    async fn purge_game_sessions(&self, ended_before: Timestamp) -> Result<usize, StoreError> {
        sessions::purge(&self.pool, ended_before.as_millis()).await
    }
}

#[async_trait]
impl LogArchives for PostgresStore {
    async fn put_process_logs(&self, logs: &ProcessLogs) -> Result<(), StoreError> {
        let inserted = sqlx::query(sql::PROCESS_LOGS_INSERT.postgres)
            .bind(&logs.process_id)
            .bind(&logs.fleet_id)
            .bind(logs.stored_at.as_millis())
            .bind(&logs.archive)
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        if inserted.rows_affected() == 0 { Err(StoreError::AlreadyExists) } else { Ok(()) }
    }

    async fn get_process_logs(&self, process_id: &str) -> Result<Option<ProcessLogs>, StoreError> {
        let row: Option<(String, i64, Vec<u8>)> = sqlx::query_as(sql::PROCESS_LOGS_GET.postgres)
            .bind(process_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.map(|(fleet_id, stored_at, archive)| ProcessLogs {
            process_id: process_id.to_owned(),
            fleet_id,
            stored_at: Timestamp::from_millis(stored_at),
            archive,
        }))
    }

    async fn purge_process_logs(&self, stored_before: Timestamp) -> Result<usize, StoreError> {
        sqlx::query(sql::PROCESS_HOSTS_PURGE.postgres)
            .bind(stored_before.as_millis())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        let done = sqlx::query(sql::PROCESS_LOGS_PURGE.postgres)
            .bind(stored_before.as_millis())
            .execute(&self.pool)
            .await
            .map_err(backend)?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}

#[async_trait]
impl ServerProcesses for PostgresStore {
    async fn put_server_process(&self, process: &ServerProcessRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(sql::PROCESS_HOST_INSERT.postgres)
            .bind(&process.process_id)
            .bind(&process.fleet_id)
            .bind(&process.compute_name)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(sql::SERVER_PROCESS_PUT.postgres)
            .bind(&process.process_id)
            .bind(to_doc(process)?)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn delete_server_process(&self, process_id: &str, ended_at: Timestamp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await.map_err(backend)?;
        sqlx::query(sql::PROCESS_HOST_END.postgres)
            .bind(ended_at.as_millis())
            .bind(process_id)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        sqlx::query(sql::SERVER_PROCESS_DELETE.postgres).bind(process_id).execute(&mut *tx).await.map_err(backend)?;
        tx.commit().await.map_err(backend)
    }

    async fn process_host(&self, process_id: &str) -> Result<Option<ProcessHost>, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(sql::PROCESS_HOST_GET.postgres)
            .bind(process_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(row.map(|(fleet_id, compute_name)| ProcessHost { fleet_id, compute_name }))
    }

    async fn list_server_processes(&self) -> Result<Vec<ServerProcessRecord>, StoreError> {
        let docs: Vec<String> =
            sqlx::query_scalar(sql::SERVER_PROCESSES_LIST.postgres).fetch_all(&self.pool).await.map_err(backend)?;
        docs.iter().map(|d| from_doc(d)).collect()
    }
}
