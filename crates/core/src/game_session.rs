//! Game session rules: IDs, idempotency, creator limits and the status life cycle
//! (`control-plane-api.md` sections 7.1, 7.9 and 7.12).

use std::time::Duration;

use openlift_model::{
    ApiError, CreateGameSessionInput, ErrorCode, GameProperty, GameSession, GameSessionStatus, GameSessionStatusReason,
    PlayerSessionCreationPolicy, ResourceCreationLimitPolicy, Timestamp,
};
use sha2::{Digest, Sha256};

/// Most players one game session may hold (not adjustable on GameLift).
pub const MAX_PLAYERS_PER_SESSION: i32 = 200;
/// Most game properties one game session may hold.
pub const MAX_GAME_PROPERTIES: usize = 16;
/// How long a CreatorId without a fleet creation-limit policy must wait between sessions.
pub const UNLIMITED_CREATOR_INTERVAL: Duration = Duration::from_secs(1);
/// How long ended sessions (and their idempotency tokens) are kept.
pub const RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// The game session ID (an ARN): `arn:aws:gamelift:<home region>::gamesession/<fleet>/<id string>`,
/// with the location before the ID string when the session is not in the home Region.
pub fn game_session_arn(home_region: &str, fleet_id: &str, location: &str, id_string: &str) -> String {
    if location == home_region {
        format!("arn:aws:gamelift:{home_region}::gamesession/{fleet_id}/{id_string}")
    } else {
        format!("arn:aws:gamelift:{home_region}::gamesession/{fleet_id}/{location}/{id_string}")
    }
}

/// The request's idempotency token, or its deprecated custom `GameSessionId`.
pub fn token(input: &CreateGameSessionInput) -> Option<&str> {
    input.idempotency_token.as_deref().or(input.game_session_id.as_deref())
}

/// The ID string of a new session: its [`token`] when given, else `gsess-<uuid7>`. A
/// version 7 UUID starts with the time, so new sessions' IDs follow one another in the
/// store's ID index, and a commit of many new sessions writes one page of that index, not
/// one page for each.
pub fn id_string(input: &CreateGameSessionInput) -> String {
    match token(input) {
        Some(token) => token.to_owned(),
        None => format!("gsess-{}", uuid::Uuid::now_v7()),
    }
}

/// A digest of the parameters that define a CreateGameSession request, so a repeated
/// idempotency token can be told apart from a reuse with different parameters.
pub fn request_digest(fleet_id: &str, location: &str, input: &CreateGameSessionInput) -> String {
    let mut hasher = Sha256::new();
    let mut field = |name: &str, value: &str| {
        hasher.update(name.as_bytes());
        hasher.update((value.len() as u64).to_be_bytes());
        hasher.update(value.as_bytes());
    };
    field("fleet", fleet_id);
    field("location", location);
    field("max", &input.maximum_player_session_count.to_string());
    field("name", input.name.as_deref().unwrap_or_default());
    field("creator", input.creator_id.as_deref().unwrap_or_default());
    field("data", input.game_session_data.as_deref().unwrap_or_default());
    for property in input.game_properties.iter().flatten() {
        field("key", &property.key);
        field("value", &property.value);
    }
    hex::encode(hasher.finalize())
}

/// Checks what the model cannot express about a CreateGameSession request.
pub fn check_create(input: &CreateGameSessionInput) -> Result<(), ApiError> {
    match (&input.fleet_id, &input.alias_id) {
        (Some(_), Some(_)) => return Err(ApiError::invalid_request("Give either FleetId or AliasId, not both.")),
        (None, None) => return Err(ApiError::invalid_request("Either FleetId or AliasId is required.")),
        _ => {}
    }
    if input.maximum_player_session_count > MAX_PLAYERS_PER_SESSION {
        return Err(ApiError::invalid_request(format!(
            "MaximumPlayerSessionCount {} is above the limit of {MAX_PLAYERS_PER_SESSION} players per game session.",
            input.maximum_player_session_count
        )));
    }
    if let (Some(token), Some(custom)) = (&input.idempotency_token, &input.game_session_id)
        && token != custom
    {
        return Err(ApiError::invalid_request("IdempotencyToken and GameSessionId differ; give only one of them."));
    }
    Ok(())
}

/// The creation limit a CreateGameSession request is held to: how many sessions its creator
/// may start, and over which window; `None` if it is not limited.
///
/// A fleet's `ResourceCreationLimitPolicy` needs a CreatorId: a request without one is an
/// `InvalidRequestException` (`control-plane-api.md` 7.9). Without a policy (or with one
/// whose values are zero) a request with a CreatorId may start one session per
/// [`UNLIMITED_CREATOR_INTERVAL`], and one without is not limited.
pub fn creator_limit(
    fleet_id: &str,
    policy: Option<&ResourceCreationLimitPolicy>,
    creator_id: Option<&str>,
) -> Result<Option<(usize, Duration)>, ApiError> {
    let policy = match policy {
        Some(ResourceCreationLimitPolicy {
            new_game_sessions_per_creator: Some(count),
            policy_period_in_minutes: Some(minutes),
        }) if *count > 0 && *minutes > 0 => Some((
            usize::try_from(*count).unwrap_or(usize::MAX),
            Duration::from_secs(u64::from(minutes.unsigned_abs()) * 60),
        )),
        _ => None,
    };
    match (creator_id, policy) {
        (Some(_), policy) => Ok(Some(policy.unwrap_or((1, UNLIMITED_CREATOR_INTERVAL)))),
        (None, Some(_)) => Err(ApiError::invalid_request(format!(
            "CreatorId is required: fleet {fleet_id} has a ResourceCreationLimitPolicy."
        ))),
        (None, None) => Ok(None),
    }
}

/// `LimitExceededException` when `recent` sessions in the window already reach the limit.
pub fn check_creator_limit(creator_id: &str, recent: usize, limit: usize, window: Duration) -> Result<(), ApiError> {
    if recent >= limit {
        return Err(ApiError::new(
            ErrorCode::LimitExceededException,
            format!(
                "Creator {creator_id} has created {recent} game sessions in the last {} seconds; the limit is {limit}.",
                window.as_secs()
            ),
        ));
    }
    Ok(())
}

/// A new session in `ACTIVATING`, accepting all players.
pub struct NewSession<'a> {
    /// The session ID (ARN).
    pub id: String,
    /// The fleet ID and ARN.
    pub fleet: (&'a str, &'a str),
    /// The location it runs in.
    pub location: &'a str,
    /// The compute hosting it.
    pub compute_name: &'a str,
    /// Where players connect: IP address, DNS name, port.
    pub endpoint: (Option<String>, Option<String>, Option<i32>),
    /// When it was created.
    pub now: Timestamp,
}

/// The GameSession for a CreateGameSession request that has been placed.
pub fn new_session(input: &CreateGameSessionInput, placed: NewSession<'_>) -> GameSession {
    let (ip_address, dns_name, port) = placed.endpoint;
    GameSession {
        game_session_id: Some(placed.id),
        name: input.name.clone(),
        fleet_id: Some(placed.fleet.0.to_owned()),
        fleet_arn: Some(placed.fleet.1.to_owned()),
        creation_time: Some(placed.now),
        current_player_session_count: Some(0),
        maximum_player_session_count: Some(input.maximum_player_session_count),
        status: Some(GameSessionStatus::Activating),
        game_properties: Some(input.game_properties.clone().unwrap_or_default()),
        ip_address,
        dns_name,
        port,
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::AcceptAll),
        creator_id: input.creator_id.clone(),
        game_session_data: input.game_session_data.clone(),
        location: Some(placed.location.to_owned()),
        compute_name: Some(placed.compute_name.to_owned()),
        ..Default::default()
    }
}

/// ACTIVATING → ACTIVE, when the hosting process calls ActivateGameSession.
pub fn activate(session: &mut GameSession) -> Result<(), ApiError> {
    match session.status {
        Some(GameSessionStatus::Activating) => {
            session.status = Some(GameSessionStatus::Active);
            Ok(())
        }
        Some(GameSessionStatus::Active) => Ok(()),
        other => Err(ApiError::new(
            ErrorCode::InvalidGameSessionStatusException,
            format!("Game session is {} and cannot be activated.", status_text(other)),
        )),
    }
}

/// ACTIVATING or ACTIVE → TERMINATING, with the reason the session will end with; a forced
/// termination of a session already TERMINATING makes its reason `FORCE_TERMINATED`.
pub fn begin_termination(session: &mut GameSession, reason: GameSessionStatusReason) -> Result<(), ApiError> {
    match session.status {
        Some(GameSessionStatus::Activating | GameSessionStatus::Active) => {
            session.status = Some(GameSessionStatus::Terminating);
            session.status_reason = Some(reason);
            Ok(())
        }
        Some(GameSessionStatus::Terminating) => {
            if reason == GameSessionStatusReason::ForceTerminated {
                session.status_reason = Some(reason);
            }
            Ok(())
        }
        other => Err(ApiError::new(
            ErrorCode::InvalidGameSessionStatusException,
            format!("Game session is {} and cannot be terminated.", status_text(other)),
        )),
    }
}

/// Any live status → TERMINATED at `now`, keeping a reason already set.
pub fn end(session: &mut GameSession, reason: Option<GameSessionStatusReason>, now: Timestamp) {
    if !is_ended(session) {
        session.status = Some(GameSessionStatus::Terminated);
        session.status_reason = session.status_reason.or(reason);
        session.termination_time = Some(now);
    }
}

/// Whether the session has ended (TERMINATED or ERROR).
pub fn is_ended(session: &GameSession) -> bool {
    matches!(session.status, Some(GameSessionStatus::Terminated | GameSessionStatus::Error))
}

/// Adds game properties, overwriting values of existing keys; keys are never removed.
/// `InvalidRequestException` if the session would then hold more than
/// [`MAX_GAME_PROPERTIES`].
pub fn merge_properties(session: &mut GameSession, updates: &[GameProperty]) -> Result<(), ApiError> {
    let mut properties = session.game_properties.clone().unwrap_or_default();
    for update in updates {
        match properties.iter_mut().find(|p| p.key == update.key) {
            Some(existing) => existing.value = update.value.clone(),
            None => properties.push(update.clone()),
        }
    }
    if properties.len() > MAX_GAME_PROPERTIES {
        return Err(ApiError::invalid_request(format!(
            "GameProperties: a game session holds at most {MAX_GAME_PROPERTIES} game properties; this update would give it {}.",
            properties.len()
        )));
    }
    session.game_properties = Some(properties);
    Ok(())
}

fn status_text(status: Option<GameSessionStatus>) -> &'static str {
    status.map_or("in no status", GameSessionStatus::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> CreateGameSessionInput {
        CreateGameSessionInput {
            fleet_id: Some("fleet-1".into()),
            maximum_player_session_count: 8,
            ..Default::default()
        }
    }

    #[test]
    fn session_ids_carry_the_location_only_outside_the_home_region() {
        assert_eq!(
            game_session_arn("us-east-1", "fleet-1", "us-east-1", "t1"),
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1/t1"
        );
        assert_eq!(
            game_session_arn("us-east-1", "fleet-1", "custom-lab", "t1"),
            "arn:aws:gamelift:us-east-1::gamesession/fleet-1/custom-lab/t1"
        );
    }

    #[test]
    fn the_idempotency_token_becomes_the_id_string() {
        let mut i = input();
        assert!(id_string(&i).starts_with("gsess-"));
        i.idempotency_token = Some("match-42".into());
        assert_eq!(id_string(&i), "match-42");
    }

    #[test]
    fn generated_id_strings_follow_their_creation_order() {
        let ids: Vec<String> = (0..1000).map(|_| id_string(&input())).collect();
        assert!(ids.windows(2).all(|pair| pair[0] < pair[1]), "IDs out of creation order");
    }

    #[test]
    fn fleet_and_alias_are_mutually_exclusive_and_one_is_required() {
        let mut i = input();
        i.alias_id = Some("alias-1".into());
        assert_eq!(check_create(&i).unwrap_err().code, ErrorCode::InvalidRequestException);
        i.fleet_id = None;
        i.alias_id = None;
        assert_eq!(check_create(&i).unwrap_err().code, ErrorCode::InvalidRequestException);
    }

    #[test]
    fn more_than_two_hundred_players_is_refused() {
        let mut i = input();
        i.maximum_player_session_count = 201;
        assert!(check_create(&i).unwrap_err().message.contains("200"));
    }

    #[test]
    fn the_digest_changes_with_any_defining_parameter() {
        let a = request_digest("fleet-1", "custom-a", &input());
        let mut changed = input();
        changed.name = Some("x".into());
        assert_ne!(a, request_digest("fleet-1", "custom-a", &changed));
        assert_ne!(a, request_digest("fleet-2", "custom-a", &input()));
        assert_eq!(a, request_digest("fleet-1", "custom-a", &input()));
    }

    #[test]
    fn creators_without_a_policy_get_one_session_per_second() {
        assert_eq!(creator_limit("fleet-1", None, Some("p1")).unwrap(), Some((1, Duration::from_secs(1))));
        assert_eq!(creator_limit("fleet-1", None, None).unwrap(), None);
        let policy =
            ResourceCreationLimitPolicy { new_game_sessions_per_creator: Some(4), policy_period_in_minutes: Some(10) };
        assert_eq!(creator_limit("fleet-1", Some(&policy), Some("p1")).unwrap(), Some((4, Duration::from_secs(600))));
        let missing = creator_limit("fleet-1", Some(&policy), None).unwrap_err();
        assert_eq!(missing.code, ErrorCode::InvalidRequestException);
        assert!(missing.message.contains("CreatorId") && missing.message.contains("fleet-1"), "{}", missing.message);
        let zero =
            ResourceCreationLimitPolicy { new_game_sessions_per_creator: Some(0), policy_period_in_minutes: Some(10) };
        assert_eq!(creator_limit("fleet-1", Some(&zero), None).unwrap(), None, "a zero policy is no policy");
        assert!(check_creator_limit("p1", 3, 4, Duration::from_secs(600)).is_ok());
        assert_eq!(
            check_creator_limit("p1", 4, 4, Duration::from_secs(600)).unwrap_err().code,
            ErrorCode::LimitExceededException
        );
    }

    #[test]
    fn life_cycle_moves_forward_only() {
        let mut s = new_session(
            &input(),
            NewSession {
                id: "gs".into(),
                fleet: ("fleet-1", "arn"),
                location: "custom-a",
                compute_name: "c",
                endpoint: (None, None, Some(7777)),
                now: Timestamp::from_millis(0),
            },
        );
        assert_eq!(s.status, Some(GameSessionStatus::Activating));
        activate(&mut s).unwrap();
        begin_termination(&mut s, GameSessionStatusReason::TriggeredOnProcessTerminate).unwrap();
        end(&mut s, None, Timestamp::from_millis(5));
        assert_eq!(s.status, Some(GameSessionStatus::Terminated));
        assert_eq!(s.status_reason, Some(GameSessionStatusReason::TriggeredOnProcessTerminate));
        assert_eq!(activate(&mut s).unwrap_err().code, ErrorCode::InvalidGameSessionStatusException);
    }

    #[test]
    fn forcing_a_triggered_termination_makes_it_forced() {
        let mut s = GameSession { status: Some(GameSessionStatus::Active), ..Default::default() };
        begin_termination(&mut s, GameSessionStatusReason::TriggeredOnProcessTerminate).unwrap();
        begin_termination(&mut s, GameSessionStatusReason::TriggeredOnProcessTerminate).unwrap();
        assert_eq!(s.status_reason, Some(GameSessionStatusReason::TriggeredOnProcessTerminate));
        begin_termination(&mut s, GameSessionStatusReason::ForceTerminated).unwrap();
        end(&mut s, None, Timestamp::from_millis(5));
        assert_eq!(s.status_reason, Some(GameSessionStatusReason::ForceTerminated));
    }

    #[test]
    fn properties_are_added_and_overwritten_never_removed() {
        let mut s = GameSession {
            game_properties: Some(vec![GameProperty { key: "map".into(), value: "dust".into() }]),
            ..Default::default()
        };
        merge_properties(
            &mut s,
            &[
                GameProperty { key: "map".into(), value: "nuke".into() },
                GameProperty { key: "mode".into(), value: "ctf".into() },
            ],
        )
        .unwrap();
        let props: Vec<_> = s.game_properties.clone().unwrap().into_iter().map(|p| (p.key, p.value)).collect();
        assert_eq!(props, vec![("map".into(), "nuke".into()), ("mode".into(), "ctf".into())]);

        let property = |i: usize| GameProperty { key: format!("k{i}"), value: "v".into() };
        let fourteen: Vec<_> = (0..14).map(property).collect();
        merge_properties(&mut s, &fourteen).unwrap();
        assert_eq!(s.game_properties.as_ref().map(Vec::len), Some(16));
        let before = s.clone();
        let error = merge_properties(&mut s, &[property(0), property(14)]).unwrap_err();
        assert_eq!(error.code, ErrorCode::InvalidRequestException);
        assert!(error.message.contains("GameProperties") && error.message.contains("17"), "{}", error.message);
        assert_eq!(s, before, "a refused update changes nothing");
        merge_properties(&mut s, &[property(0), property(13)]).unwrap();
    }
}
