//! The store traits for [`SqliteStore`]: owned copies of the arguments go to the writer
//! thread or a reader, which run the functions of `queries`.

use async_trait::async_trait;
use openlift_core::records::{
    AliasRecord, AuthToken, ComputeRecord, Fleet, FleetEvent, GameSessionRecord, Location, PlayerSessionRecord,
    ProcessLogs, ServerProcessRecord,
};
use openlift_model::{Tag, Timestamp};

use super::SqliteStore;
use super::{queries, sessions};
use crate::common::{
    AliasRow, FleetRow, GameSessionRow, Listing, PlayerSessionRow, after_ascending, after_descending, event_rows,
    fleet_event_rows, from_doc, outbox_events, page_of, random_secret, to_doc,
};
use crate::prelude::*;
use crate::sql::{self, Dialect};
use crate::{
    AliasFilter, ComputeChange, EventFilter, GameSessionFilter, OutboxEvent, Page, PageRequest, PlayerSessionFilter,
    ProcessHost, Sequenced, SessionChange, StoreError, Versioned,
};

/// Decodes an optional versioned document.
fn decode<T: serde::de::DeserializeOwned>(row: Option<Versioned<String>>) -> Result<Option<Versioned<T>>, StoreError> {
    row.map(|r| Ok(Versioned { value: from_doc(&r.value)?, version: r.version })).transpose()
}

/// Decodes an optional document.
fn decode_doc<T: serde::de::DeserializeOwned>(doc: Option<String>) -> Result<Option<T>, StoreError> {
    doc.as_deref().map(from_doc).transpose()
}

#[async_trait]
impl Secrets for SqliteStore {
    async fn secret(&self, name: &str, len: usize) -> Result<Vec<u8>, StoreError> {
        let key = name.to_owned();
        if let Some(value) = self.read(move |c| queries::stored_secret(c, &key)).await? {
            return Ok(value);
        }
        let (name, fresh) = (name.to_owned(), random_secret(len));
        self.write(move |c| queries::secret(c, &name, &fresh)).await
    }
}

#[async_trait]
impl Locations for SqliteStore {
    async fn create_location(&self, location: &Location, tags: &[Tag]) -> Result<(), StoreError> {
        let (name, arn, doc, tags) = (location.name.clone(), location.arn.clone(), to_doc(location)?, tags.to_vec());
        self.write(move |c| queries::create_location(c, &name, &arn, &doc, &tags)).await
    }

    async fn get_location(&self, name: &str) -> Result<Option<Location>, StoreError> {
        let name = name.to_owned();
        decode_doc(self.read(move |c| queries::doc(c, sql::LOCATION_GET.sqlite, &[&name])).await?)
    }

    async fn list_locations(&self, page: PageRequest) -> Result<Page<Location>, StoreError> {
        let after = after_ascending(page.after);
        page_of(self.read(move |c| queries::list_locations(c, after, page.limit)).await?, page.limit)
    }

    async fn delete_location(&self, name: &str) -> Result<(), StoreError> {
        let name = name.to_owned();
        self.write(move |c| queries::delete_tagged(c, sql::LOCATION_DELETE.sqlite, &name)).await
    }
}

#[async_trait]
impl Outbox for SqliteStore {
    async fn append_events(&self, events: &[OutboxEvent]) -> Result<(), StoreError> {
        let events = event_rows(events)?;
        self.write(move |c| queries::append_events(c, &events)).await
    }

    async fn events_after(&self, after: i64, limit: usize) -> Result<Vec<Sequenced<OutboxEvent>>, StoreError> {
        outbox_events(self.read(move |c| queries::events_after(c, after, limit)).await?)
    }
}

#[async_trait]
impl Fleets for SqliteStore {
    async fn create_fleet(&self, fleet: &Fleet, events: &[FleetEvent], tags: &[Tag]) -> Result<(), StoreError> {
        let (row, events, tags) = (FleetRow::new(fleet)?, fleet_event_rows(events)?, tags.to_vec());
        self.write(move |c| queries::create_fleet(c, &row, &events, &tags)).await
    }

    async fn get_fleet(&self, fleet_id: &str) -> Result<Option<Versioned<Fleet>>, StoreError> {
        let id = fleet_id.to_owned();
        decode(self.read(move |c| queries::versioned(c, sql::FLEET_GET.sqlite, &id)).await?)
    }

    async fn list_fleets(&self, include_terminated: bool, page: PageRequest) -> Result<Page<Fleet>, StoreError> {
        let after = after_ascending(page.after);
        page_of(self.read(move |c| queries::list_fleets(c, include_terminated, after, page.limit)).await?, page.limit)
    }

    async fn fleets_in_location(&self, location: &str) -> Result<Vec<String>, StoreError> {
        let location = location.to_owned();
        self.read(move |c| queries::fleets_in_location(c, &location)).await
    }

    async fn update_fleet(
        &self,
        fleet: &Fleet,
        expected_version: i64,
        events: &[FleetEvent],
    ) -> Result<i64, StoreError> {
        let (row, events) = (FleetRow::new(fleet)?, fleet_event_rows(events)?);
        self.write(move |c| queries::update_fleet(c, &row, expected_version, &events)).await
    }

    async fn list_fleet_events(
        &self,
        fleet_id: &str,
        filter: &EventFilter,
        page: PageRequest,
    ) -> Result<Page<FleetEvent>, StoreError> {
        let (id, before) = (fleet_id.to_owned(), after_descending(page.after));
        let (start, end) = (filter.start.map(Timestamp::as_millis), filter.end.map(Timestamp::as_millis));
        page_of(
            self.read(move |c| queries::list_fleet_events(c, &id, start, end, before, page.limit)).await?,
            page.limit,
        )
    }
}

#[async_trait]
impl Computes for SqliteStore {
    async fn create_compute(&self, compute: &ComputeRecord) -> Result<(), StoreError> {
        let fleet_id = compute.compute.fleet_id.clone().unwrap_or_default();
        let name = compute.compute.compute_name.clone().unwrap_or_default();
        let (location, doc) = (compute.compute.location.clone(), to_doc(compute)?);
        self.write(move |c| queries::create_compute(c, &fleet_id, &name, location.as_deref(), &doc)).await
    }

    async fn get_compute(&self, fleet_id: &str, compute_name: &str) -> Result<Option<ComputeRecord>, StoreError> {
        let (id, name) = (fleet_id.to_owned(), compute_name.to_owned());
        let statement = sql::COMPUTE_GET.sqlite;
        decode_doc(self.read(move |c| queries::doc(c, statement, &[&id, &name])).await?)
    }

    async fn list_computes(
        &self,
        fleet_id: &str,
        location: Option<&str>,
        page: PageRequest,
    ) -> Result<Page<ComputeRecord>, StoreError> {
        let (id, location, after) = (fleet_id.to_owned(), location.map(str::to_owned), after_ascending(page.after));
        page_of(
            self.read(move |c| queries::list_computes(c, &id, location.as_deref(), after, page.limit)).await?,
            page.limit,
        )
    }

    async fn change_compute(
        &self,
        fleet_id: &str,
        compute_name: &str,
        change: ComputeChange,
    ) -> Result<bool, StoreError> {
        let (id, name) = (fleet_id.to_owned(), compute_name.to_owned());
        self.write(move |c| {
            let doc = queries::doc(c, sql::COMPUTE_GET.sqlite, &[&id, &name])?.ok_or(StoreError::NotFound)?;
            let mut compute: ComputeRecord = from_doc(&doc)?;
            if !change.apply(&mut compute) {
                return Ok(false);
            }
            queries::update_compute(c, &id, &name, &to_doc(&compute)?)?;
            Ok(true)
        })
        .await
    }

    async fn delete_compute(&self, fleet_id: &str, compute_name: &str) -> Result<(), StoreError> {
        let (id, name) = (fleet_id.to_owned(), compute_name.to_owned());
        match self.write(move |c| queries::delete_compute(c, &id, &name)).await? {
            0 => Err(StoreError::NotFound),
            _ => Ok(()),
        }
    }

    async fn put_auth_token(&self, token: &AuthToken, now: Timestamp) -> Result<(), StoreError> {
        let (token, doc) = (token.clone(), to_doc(token)?);
        self.write(move |c| queries::put_auth_token(c, &token, &doc, now.as_millis())).await
    }

    async fn get_auth_token(&self, digest: &str) -> Result<Option<AuthToken>, StoreError> {
        let digest = digest.to_owned();
        decode_doc(self.read(move |c| queries::doc(c, sql::AUTH_TOKEN_GET.sqlite, &[&digest])).await?)
    }
}

#[async_trait]
impl Aliases for SqliteStore {
    async fn create_alias(&self, alias: &AliasRecord, tags: &[Tag]) -> Result<(), StoreError> {
        let (row, tags) = (AliasRow::new(alias)?, tags.to_vec());
        self.write(move |c| queries::create_alias(c, &row, &tags)).await
    }

    async fn get_alias(&self, alias_id: &str) -> Result<Option<Versioned<AliasRecord>>, StoreError> {
        let id = alias_id.to_owned();
        decode(self.read(move |c| queries::versioned(c, sql::ALIAS_GET.sqlite, &id)).await?)
    }

    async fn list_aliases(&self, filter: &AliasFilter, page: PageRequest) -> Result<Page<AliasRecord>, StoreError> {
        let (filter, after) = (filter.clone(), after_ascending(page.after));
        let rows = self
            .read(move |c| {
                let (routing, name) = (filter.routing_strategy_type.as_deref(), filter.name.as_deref());
                queries::list_aliases(c, routing, name, after, page.limit)
            })
            .await?;
        page_of(rows, page.limit)
    }

    async fn update_alias(&self, alias: &AliasRecord, expected_version: i64) -> Result<i64, StoreError> {
        let row = AliasRow::new(alias)?;
        self.write(move |c| queries::update_alias(c, &row, expected_version)).await
    }

    async fn delete_alias(&self, alias_id: &str) -> Result<(), StoreError> {
        let id = alias_id.to_owned();
        self.write(move |c| queries::delete_tagged(c, sql::ALIAS_DELETE.sqlite, &id)).await
    }
}

#[async_trait]
impl Tags for SqliteStore {
    async fn list_tags(&self, arn: &str) -> Result<Vec<Tag>, StoreError> {
        let arn = arn.to_owned();
        self.read(move |c| queries::list_tags(c, &arn)).await
    }

    async fn tag_resource(&self, arn: &str, tags: &[Tag]) -> Result<(), StoreError> {
        let (arn, tags) = (arn.to_owned(), tags.to_vec());
        self.write(move |c| queries::tag_resource(c, &arn, &tags)).await
    }

    async fn untag_resource(&self, arn: &str, keys: &[String]) -> Result<(), StoreError> {
        let (arn, keys) = (arn.to_owned(), keys.to_vec());
        self.write(move |c| queries::untag_resource(c, &arn, Some(&keys))).await
    }

    async fn delete_tags(&self, arn: &str) -> Result<(), StoreError> {
        let arn = arn.to_owned();
        self.write(move |c| queries::untag_resource(c, &arn, None)).await
    }
}

#[async_trait]
impl Sessions for SqliteStore {
    async fn create_game_session(&self, session: &GameSessionRecord) -> Result<(), StoreError> {
        let row = GameSessionRow::new(session)?;
        self.write(move |c| sessions::create_game_session(c, &row)).await
    }

    async fn get_game_session(
        &self,
        game_session_id: &str,
    ) -> Result<Option<Versioned<GameSessionRecord>>, StoreError> {
        let id = game_session_id.to_owned();
        let statement = sql::GAME_SESSION_GET.sqlite;
        decode(self.read(move |c| queries::versioned(c, statement, &id)).await?)
    }

    async fn get_game_session_by_token(&self, token: &str) -> Result<Option<Versioned<GameSessionRecord>>, StoreError> {
        let token = token.to_owned();
        let statement = sql::GAME_SESSION_BY_TOKEN.sqlite;
        decode(self.read(move |c| queries::versioned(c, statement, &token)).await?)
    }

    async fn update_game_session(&self, session: &GameSessionRecord, expected_version: i64) -> Result<i64, StoreError> {
        let row = GameSessionRow::new(session)?;
        self.write(move |c| sessions::update_game_session(c, &row, expected_version)).await
    }

    async fn list_game_sessions(
        &self,
        filter: &GameSessionFilter,
        page: PageRequest,
    ) -> Result<Page<GameSessionRecord>, StoreError> {
        let listing = Listing::game_sessions(filter, after_ascending(page.after), page.limit, Dialect::Sqlite);
        page_of(self.read(move |c| sessions::list(c, &listing)).await?, page.limit)
    }

    async fn count_game_sessions_by_creator(
        &self,
        fleet_id: &str,
        creator_id: &str,
        since: Timestamp,
    ) -> Result<usize, StoreError> {
        let (fleet_id, creator_id) = (fleet_id.to_owned(), creator_id.to_owned());
        self.read(move |c| sessions::count_by_creator(c, &fleet_id, &creator_id, since.as_millis())).await
    }

    async fn add_player_sessions(
        &self,
        session: &GameSessionRecord,
        expected_version: i64,
        players: &[PlayerSessionRecord],
    ) -> Result<i64, StoreError> {
        let (row, players) = (GameSessionRow::new(session)?, PlayerSessionRow::all(players)?);
        self.write(move |c| sessions::add_player_sessions(c, &row, expected_version, &players)).await
    }

    async fn change_sessions(&self, change: SessionChange<'_>) -> Result<(), StoreError> {
        let session =
            change.session.map(|(s, version)| GameSessionRow::new(s).map(|row| (row, version))).transpose()?;
        let players = change.players.iter().map(PlayerSessionRow::new).collect::<Result<Vec<_>, _>>()?;
        let events = event_rows(change.events)?;
        self.write(move |c| sessions::change(c, session.as_ref().map(|(s, v)| (s, *v)), &players, &events)).await
    }

    async fn get_player_session(&self, player_session_id: &str) -> Result<Option<PlayerSessionRecord>, StoreError> {
        let id = player_session_id.to_owned();
        let statement = sql::PLAYER_SESSION_GET.sqlite;
        decode_doc(self.read(move |c| queries::doc(c, statement, &[&id])).await?)
    }

    async fn list_player_sessions(
        &self,
        filter: &PlayerSessionFilter,
        page: PageRequest,
    ) -> Result<Page<PlayerSessionRecord>, StoreError> {
        let listing = Listing::player_sessions(filter, after_ascending(page.after), page.limit, Dialect::Sqlite);
        page_of(self.read(move |c| sessions::list(c, &listing)).await?, page.limit)
    }

    async fn purge_game_sessions(&self, ended_before: Timestamp) -> Result<usize, StoreError> {
        self.write(move |c| sessions::purge(c, ended_before.as_millis())).await
    }
}

#[async_trait]
impl LogArchives for SqliteStore {
    async fn put_process_logs(&self, logs: &ProcessLogs) -> Result<(), StoreError> {
        let logs = logs.clone();
        self.write(move |c| queries::put_process_logs(c, &logs)).await
    }

    async fn get_process_logs(&self, process_id: &str) -> Result<Option<ProcessLogs>, StoreError> {
        let id = process_id.to_owned();
        self.read(move |c| queries::process_logs(c, &id)).await
    }

    async fn purge_process_logs(&self, stored_before: Timestamp) -> Result<usize, StoreError> {
        self.write(move |c| {
            let cutoff = stored_before.as_millis();
            c.execute(sql::PROCESS_HOSTS_PURGE.sqlite, [cutoff]).map_err(crate::common::backend)?;
            c.execute(sql::PROCESS_LOGS_PURGE.sqlite, [cutoff]).map_err(crate::common::backend)
        })
        .await
    }
}

#[async_trait]
impl ServerProcesses for SqliteStore {
    async fn put_server_process(&self, process: &ServerProcessRecord) -> Result<(), StoreError> {
        let (id, doc) = (process.process_id.clone(), to_doc(process)?);
        let (fleet_id, compute_name) = (process.fleet_id.clone(), process.compute_name.clone());
        self.write(move |c| {
            c.execute(sql::PROCESS_HOST_INSERT.sqlite, [&id, &fleet_id, &compute_name])
                .map_err(crate::common::backend)?;
            c.execute(sql::SERVER_PROCESS_PUT.sqlite, [&id, &doc]).map(drop).map_err(crate::common::backend)
        })
        .await
    }

    async fn delete_server_process(&self, process_id: &str, ended_at: Timestamp) -> Result<(), StoreError> {
        let id = process_id.to_owned();
        self.write(move |c| {
            c.execute(sql::PROCESS_HOST_END.sqlite, rusqlite::params![ended_at.as_millis(), id])
                .map_err(crate::common::backend)?;
            c.execute(sql::SERVER_PROCESS_DELETE.sqlite, [&id]).map(drop).map_err(crate::common::backend)
        })
        .await
    }

    async fn process_host(&self, process_id: &str) -> Result<Option<ProcessHost>, StoreError> {
        let id = process_id.to_owned();
        self.read(move |c| queries::process_host(c, &id)).await
    }

    async fn list_server_processes(&self) -> Result<Vec<ServerProcessRecord>, StoreError> {
        let docs = self
            .read(|c| {
                let mut stmt = c.prepare(sql::SERVER_PROCESSES_LIST.sqlite).map_err(crate::common::backend)?;
                let docs = stmt.query_map([], |r| r.get::<_, String>(0)).map_err(crate::common::backend)?;
                docs.collect::<Result<Vec<_>, _>>().map_err(crate::common::backend)
            })
            .await?;
        docs.iter().map(|d| from_doc(d)).collect()
    }
}
