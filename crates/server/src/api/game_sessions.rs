//! CreateGameSession, DescribeGameSessions, DescribeGameSessionDetails,
//! SearchGameSessions, UpdateGameSession and TerminateGameSession
//! (`control-plane-api.md` sections 7.9 and 7.12).

use openlift_core::records::GameSessionRecord;
use openlift_core::{game_session, search};
use openlift_model::{
    ApiError, CreateGameSessionInput, CreateGameSessionOutput, DescribeGameSessionDetailsInput,
    DescribeGameSessionDetailsOutput, DescribeGameSessionsInput, DescribeGameSessionsOutput, ErrorCode,
    GameSessionDetail, GameSessionStatus, GameSessionStatusReason, SearchGameSessionsInput, SearchGameSessionsOutput,
    TerminateGameSessionInput, TerminateGameSessionOutput, TerminationMode, UpdateGameSessionInput,
    UpdateGameSessionOutput,
};
use openlift_store::{GameSessionFilter, PageRequest};

use crate::app::App;
use crate::service::common::{MAX_PAGE, internal};

/// SearchGameSessions returns at most this many sessions a page, whatever the Limit.
const MAX_SEARCH_PAGE: usize = 20;

/// Starts a game session on an available server process of the fleet.
pub async fn create(app: &App, input: CreateGameSessionInput) -> Result<CreateGameSessionOutput, ApiError> {
    Ok(CreateGameSessionOutput { game_session: Some(app.services.placement.create(&input).await?) })
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
    let fleet_id = app.services.fleets.target(s.fleet_id.as_deref(), s.alias_id.as_deref()).await?;
    app.services.fleets.load(&fleet_id).await?;
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
    let page = app.paging.request(&scope, s.limit, s.next_token.as_deref(), MAX_PAGE)?;
    let sessions = app.store.list_game_sessions(&filter, page).await.map_err(internal)?;
    let next_token = app.paging.next_token(&scope, &sessions);
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
    let fleet_id = app.services.fleets.target(input.fleet_id.as_deref(), input.alias_id.as_deref()).await?;
    app.services.fleets.load(&fleet_id).await?;
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
    let page = app.paging.request(&scope, input.limit, input.next_token.as_deref(), MAX_SEARCH_PAGE)?;
    let start = usize::try_from(page.after.unwrap_or(0)).unwrap_or(usize::MAX).min(matching.len());
    let end = (start + page.limit).min(matching.len());
    let next_token = (end < matching.len()).then(|| app.paging.tokens.issue(&scope, end as i64));
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
    let record = app
        .services
        .sessions
        .update_session(&input.game_session_id, |record| {
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
        TerminationMode::ForceTerminate => app.services.sessions.check_force_terminable(&input.game_session_id).await?,
        TerminationMode::TriggerOnProcessTerminate => None,
    };
    let record = app
        .services
        .sessions
        .update_known_session(&input.game_session_id, known, |record| {
            game_session::begin_termination(&mut record.game_session, reason)
        })
        .await?;
    let record = app.services.sessions.terminate_process_of(record, input.termination_mode).await?;
    Ok(TerminateGameSessionOutput { game_session: Some(record.game_session) })
}
