//! CreateGameSession, DescribeGameSessions, DescribeGameSessionDetails,
//! SearchGameSessions, UpdateGameSession and TerminateGameSession
//! (`control-plane-api.md` sections 7.9 and 7.12).

use openlift_core::records::GameSessionRecord;
use openlift_core::{alias, fleet, game_session, ids, search};
use openlift_model::{
    ApiError, ComputeType, CreateGameSessionInput, CreateGameSessionOutput, DescribeGameSessionDetailsInput,
    DescribeGameSessionDetailsOutput, DescribeGameSessionsInput, DescribeGameSessionsOutput, ErrorCode, FleetStatus,
    GameSession, GameSessionDetail, GameSessionStatus, GameSessionStatusReason, ProtectionPolicy,
    SearchGameSessionsInput, SearchGameSessionsOutput, TerminateGameSessionInput, TerminateGameSessionOutput,
    TerminationMode, UpdateGameSessionInput, UpdateGameSessionOutput,
};
use openlift_store::{GameSessionFilter, PageRequest, StoreError};

use crate::app::{App, MAX_PAGE, internal};
use crate::service::{fleets, sessions};

/// SearchGameSessions returns at most this many sessions a page, whatever the Limit.
const MAX_SEARCH_PAGE: usize = 20;

/// The fleet an input names by `FleetId` or `AliasId` (exactly one), resolving aliases.
async fn target_fleet(app: &App, fleet_id: Option<&str>, alias_id: Option<&str>) -> Result<String, ApiError> {
    match (fleet_id, alias_id) {
        (Some(fleet), None) => Ok(ids::id_from_id_or_arn(fleet).to_owned()),
        (None, Some(alias_id)) => {
            let id = ids::id_from_id_or_arn(alias_id);
            let alias = app.store.get_alias(id).await.map_err(internal)?;
            let alias = alias.ok_or_else(|| ApiError::not_found(format!("Alias {id} not found.")))?;
            Ok(alias::resolve(&alias.value)?.to_owned())
        }
        (Some(_), Some(_)) => Err(ApiError::invalid_request("Give either FleetId or AliasId, not both.")),
        (None, None) => Err(ApiError::invalid_request("Either FleetId or AliasId is required.")),
    }
}

/// Starts a game session on an available server process of the fleet.
pub async fn create(app: &App, input: CreateGameSessionInput) -> Result<CreateGameSessionOutput, ApiError> {
    game_session::check_create(&input)?;
    let fleet_id = target_fleet(app, input.fleet_id.as_deref(), input.alias_id.as_deref()).await?;
    let fleet = fleets::cached(app, &fleet_id).await?;
    if fleet.attributes.status != Some(FleetStatus::Active) {
        return Err(ApiError::new(ErrorCode::InvalidFleetStatusException, format!("Fleet {fleet_id} is not ACTIVE.")));
    }
    let anywhere = fleet.attributes.compute_type == Some(ComputeType::Anywhere);
    let home = fleet::home_region(&fleet);
    let location = match (&input.location, home) {
        (Some(location), _) => location.clone(),
        (None, Some(home)) if !anywhere => home.to_owned(),
        (None, _) => {
            return Err(ApiError::invalid_request(format!(
                "Location is required for the Anywhere fleet {fleet_id}: name one of its custom locations."
            )));
        }
    };
    if !fleet::has_location(&fleet, &location) {
        return Err(ApiError::invalid_request(format!("Fleet {fleet_id} has no location {location}.")));
    }
    if anywhere && Some(location.as_str()) == home {
        return Err(ApiError::invalid_request(format!(
            "Location {location} is the home Region of the Anywhere fleet {fleet_id}, which hosts game sessions only in its custom locations."
        )));
    }
    let creator_limit = game_session::creator_limit(
        &fleet_id,
        fleet.attributes.resource_creation_limit_policy.as_ref(),
        input.creator_id.as_deref(),
    )?;
    let id_string = game_session::id_string(&input);
    let id = game_session::game_session_arn(&app.scope.region, &fleet_id, &location, &id_string);
    let digest = game_session::request_digest(&fleet_id, &location, &input);
    let token = game_session::token(&input);
    // Repeats of one request wait for the first to commit rather than claim processes of their own.
    let _id_guard = match token {
        Some(token) => Some(app.locks.lock(&format!("game-session-id|{token}")).await),
        None => None,
    };
    if let Some(existing) = repeated_request(app, token, &digest).await? {
        return Ok(CreateGameSessionOutput { game_session: Some(existing) });
    }
    let _creator_guard = match (&input.creator_id, creator_limit) {
        (Some(creator), Some((limit, window))) => {
            let guard = app.locks.lock(&format!("creator|{fleet_id}|{creator}")).await;
            let since = app.now().minus(window);
            let recent = app.store.count_game_sessions_by_creator(&fleet_id, creator, since).await.map_err(internal)?;
            game_session::check_creator_limit(creator, recent, limit, window)?;
            Some(guard)
        }
        _ => None,
    };
    let fleet_arn = fleet.attributes.fleet_arn.clone().unwrap_or_default();
    let protection = fleet.attributes.new_game_session_protection_policy.unwrap_or(ProtectionPolicy::NoProtection);
    let placed = sessions::place(app, &fleet, &location, &id)?;
    let session = game_session::new_session(
        &input,
        game_session::NewSession {
            id: id.clone(),
            fleet: (&fleet_id, &fleet_arn),
            location: &location,
            compute_name: &placed.compute_name,
            endpoint: (placed.ip_address.clone(), placed.dns_name.clone(), placed.port.map(i32::from)),
            now: app.now(),
        },
    );
    let record = GameSessionRecord {
        game_session: session,
        protection_policy: protection,
        process_id: Some(placed.process_id.clone()),
        idempotency_token: token.map(str::to_owned),
        request_digest: digest.clone(),
        log_paths: placed.log_paths.clone(),
    };
    match app.store.create_game_session(&record).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => {
            drop(placed);
            let existing = repeated_request(app, token, &digest).await?;
            return existing
                .map(|s| CreateGameSessionOutput { game_session: Some(s) })
                .ok_or_else(|| ApiError::conflict(format!("Game session {id} is being created; retry.")));
        }
        Err(e) => {
            drop(placed);
            return Err(internal(e));
        }
    }
    tracing::info!(game_session_id = %id, process_id = %placed.process_id, "game session placed");
    let session = record.game_session.clone();
    sessions::push_create(app, placed, record, &input);
    Ok(CreateGameSessionOutput { game_session: Some(session) })
}

/// The session a repeated idempotent request refers to, if one was created with `token`:
/// the original with its current status, or `IdempotentParameterMismatchException` when
/// the parameters (the fleet and location among them) differ.
async fn repeated_request(app: &App, token: Option<&str>, digest: &str) -> Result<Option<GameSession>, ApiError> {
    let Some(token) = token else {
        return Ok(None);
    };
    match app.store.get_game_session_by_token(token).await.map_err(internal)? {
        Some(existing) if existing.value.request_digest == digest => Ok(Some(existing.value.game_session)),
        Some(existing) => Err(ApiError::new(
            ErrorCode::IdempotentParameterMismatchException,
            format!("A game session with ID {} already exists with different parameters.", existing.value.id()),
        )),
        None => Ok(None),
    }
}

/// The sessions DescribeGameSessions (and, with the same members, DescribeGameSessionDetails) select.
async fn select(
    app: &App,
    op: &str,
    s: &DescribeGameSessionsInput,
) -> Result<(Vec<GameSessionRecord>, Option<String>), ApiError> {
    let status = match s.status_filter.as_deref() {
        None => None,
        Some(f) => match GameSessionStatus::parse(f) {
            Some(
                status @ (GameSessionStatus::Active
                | GameSessionStatus::Activating
                | GameSessionStatus::Terminating
                | GameSessionStatus::Terminated),
            ) => Some(status),
            _ => {
                return Err(ApiError::invalid_request(format!(
                    "StatusFilter {f} is not one of ACTIVE, ACTIVATING, TERMINATING, TERMINATED."
                )));
            }
        },
    };
    if let Some(id) = s.game_session_id.as_deref() {
        let found = app.store.get_game_session(id).await.map_err(internal)?;
        let matches = |r: &GameSessionRecord| status.is_none_or(|st| r.game_session.status == Some(st));
        return Ok((found.map(|v| v.value).filter(matches).into_iter().collect(), None));
    }
    let fleet_id = target_fleet(app, s.fleet_id.as_deref(), s.alias_id.as_deref()).await?;
    fleets::load(app, &fleet_id).await?;
    let filter = GameSessionFilter {
        fleet_id: Some(fleet_id.clone()),
        location: s.location.clone(),
        status: status.map(|st| st.as_str().to_owned()),
        created_before: None,
    };
    let scope = format!(
        "{op}|{fleet_id}|{}|{}",
        s.location.as_deref().unwrap_or_default(),
        s.status_filter.as_deref().unwrap_or_default()
    );
    let page = app.page_request(&scope, s.limit, s.next_token.as_deref(), MAX_PAGE)?;
    let sessions = app.store.list_game_sessions(&filter, page).await.map_err(internal)?;
    let next_token = app.next_token(&scope, &sessions);
    Ok((sessions.items, next_token))
}

/// Game sessions by fleet, alias, location or ID, optionally by status.
pub async fn describe(app: &App, input: DescribeGameSessionsInput) -> Result<DescribeGameSessionsOutput, ApiError> {
    let (records, next_token) = select(app, "DescribeGameSessions", &input).await?;
    Ok(DescribeGameSessionsOutput {
        game_sessions: Some(records.into_iter().map(|r| r.game_session).collect()),
        next_token,
    })
}

/// The same selection as DescribeGameSessions, with each session's protection policy.
pub async fn describe_details(
    app: &App,
    input: DescribeGameSessionDetailsInput,
) -> Result<DescribeGameSessionDetailsOutput, ApiError> {
    let selection = DescribeGameSessionsInput {
        fleet_id: input.fleet_id,
        game_session_id: input.game_session_id,
        alias_id: input.alias_id,
        location: input.location,
        status_filter: input.status_filter,
        limit: input.limit,
        next_token: input.next_token,
    };
    let (records, next_token) = select(app, "DescribeGameSessionDetails", &selection).await?;
    let details = records
        .into_iter()
        .map(|r| GameSessionDetail { game_session: Some(r.game_session), protection_policy: Some(r.protection_policy) })
        .collect();
    Ok(DescribeGameSessionDetailsOutput { game_session_details: Some(details), next_token })
}

/// ACTIVE sessions of one fleet matching a filter, in the requested order, 20 a page.
pub async fn search(app: &App, input: SearchGameSessionsInput) -> Result<SearchGameSessionsOutput, ApiError> {
    let fleet_id = target_fleet(app, input.fleet_id.as_deref(), input.alias_id.as_deref()).await?;
    fleets::load(app, &fleet_id).await?;
    let filter = input.filter_expression.as_deref().map(search::parse_filter).transpose()?;
    let sort = input.sort_expression.as_deref().map(search::parse_sort).transpose()?;
    let mut matching = Vec::new();
    let mut after = None;
    loop {
        let store_filter = GameSessionFilter {
            fleet_id: Some(fleet_id.clone()),
            location: input.location.clone(),
            status: Some(GameSessionStatus::Active.as_str().to_owned()),
            created_before: None,
        };
        let page =
            app.store.list_game_sessions(&store_filter, PageRequest { after, limit: 500 }).await.map_err(internal)?;
        matching.extend(
            page.items
                .into_iter()
                .map(|r| r.game_session)
                .filter(search::is_searchable)
                .filter(|s| filter.as_ref().is_none_or(|f| f.matches(s))),
        );
        match page.next {
            Some(next) => after = Some(next),
            None => break,
        }
    }
    if let Some(sort) = &sort {
        matching.sort_by(|a, b| sort.compare(a, b));
    }
    let scope = format!(
        "SearchGameSessions|{fleet_id}|{}|{}|{}",
        input.location.as_deref().unwrap_or_default(),
        input.filter_expression.as_deref().unwrap_or_default(),
        input.sort_expression.as_deref().unwrap_or_default()
    );
    let page = app.page_request(&scope, input.limit, input.next_token.as_deref(), MAX_SEARCH_PAGE)?;
    let start = usize::try_from(page.after.unwrap_or(0)).unwrap_or(usize::MAX).min(matching.len());
    let end = (start + page.limit).min(matching.len());
    let next_token = (end < matching.len()).then(|| app.page_tokens.issue(&scope, end as i64));
    Ok(SearchGameSessionsOutput { game_sessions: Some(matching[start..end].to_vec()), next_token })
}

/// Changes a live session's name, player limit, creation policy, protection or properties.
pub async fn update(app: &App, input: UpdateGameSessionInput) -> Result<UpdateGameSessionOutput, ApiError> {
    if let Some(max) = input.maximum_player_session_count
        && max > game_session::MAX_PLAYERS_PER_SESSION
    {
        return Err(ApiError::invalid_request(format!(
            "MaximumPlayerSessionCount {max} is above the limit of {} players per game session.",
            game_session::MAX_PLAYERS_PER_SESSION
        )));
    }
    let record = sessions::update_session(app, &input.game_session_id, |record| {
        if game_session::is_ended(&record.game_session) {
            return Err(ApiError::new(
                ErrorCode::InvalidGameSessionStatusException,
                format!("Game session {} has ended and cannot be updated.", input.game_session_id),
            ));
        }
        let s = &mut record.game_session;
        if let Some(name) = &input.name {
            s.name = Some(name.clone());
        }
        if let Some(max) = input.maximum_player_session_count {
            s.maximum_player_session_count = Some(max);
        }
        if let Some(policy) = input.player_session_creation_policy {
            s.player_session_creation_policy = Some(policy);
        }
        if let Some(properties) = &input.game_properties {
            game_session::merge_properties(s, properties)?;
        }
        if let Some(protection) = input.protection_policy {
            record.protection_policy = protection;
        }
        Ok(())
    })
    .await?;
    Ok(UpdateGameSessionOutput { game_session: Some(record.game_session) })
}

/// Asks the hosting process to end the session (TRIGGER_ON_PROCESS_TERMINATE) or stops
/// it at once (FORCE_TERMINATE); the session is TERMINATING until the process ends.
pub async fn terminate(app: &App, input: TerminateGameSessionInput) -> Result<TerminateGameSessionOutput, ApiError> {
    let reason = match input.termination_mode {
        TerminationMode::TriggerOnProcessTerminate => GameSessionStatusReason::TriggeredOnProcessTerminate,
        TerminationMode::ForceTerminate => GameSessionStatusReason::ForceTerminated,
    };
    let known = match input.termination_mode {
        TerminationMode::ForceTerminate => sessions::check_force_terminable(app, &input.game_session_id).await?,
        TerminationMode::TriggerOnProcessTerminate => None,
    };
    let record = sessions::update_known_session(app, &input.game_session_id, known, |record| {
        game_session::begin_termination(&mut record.game_session, reason)
    })
    .await?;
    let record = sessions::terminate_process_of(app, record, input.termination_mode).await?;
    Ok(TerminateGameSessionOutput { game_session: Some(record.game_session) })
}
