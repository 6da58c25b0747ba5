//! Every exception of CreateGameSession (`control-plane-api.md` section 4 and 7.9), each
//! produced by its documented situation and seen through `aws-sdk-gamelift` (Smithy RPC v2
//! CBOR): the code, HTTP 400, and a message naming the field or resource at fault. Game
//! servers are real `openlift-server-sdk` processes on the SDK endpoint.
//!
//! `UnauthorizedException` and `UnsupportedRegionException` cannot be produced: SigV4 runs
//! first and answers bad credentials or another Region with the coral codes of section 9.3.
//! `ConflictException` is only the answer to a racing duplicate whose original vanished,
//! which cannot be provoked; the race itself is proven to return the one original.

mod sdk_endpoint_support;

use std::fmt::Debug;
use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::config::http::HttpResponse;
use aws_sdk_gamelift::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_gamelift::types::{
    GameProperty, GameSessionStatus, ResourceCreationLimitPolicy, RoutingStrategy, RoutingStrategyType,
};
use openlift_model::FleetStatus;
use sdk_endpoint_support::games::{Game, OnStart};
use sdk_endpoint_support::{Compute, Harness, LOCATION, REGION};

/// What a failed call answered.
#[derive(Debug)]
struct Failure {
    code: String,
    status: u16,
    message: String,
}

/// The error of a call that must fail, with its HTTP status.
fn failure<O: Debug, E: ProvideErrorMetadata + Debug>(result: Result<O, SdkError<E, HttpResponse>>) -> Failure {
    let err = match result {
        Ok(output) => panic!("expected an error, got {output:?}"),
        Err(err) => err,
    };
    let status = err.raw_response().map(|r| r.status().as_u16()).unwrap_or_else(|| panic!("no response: {err:?}"));
    Failure {
        code: err.code().unwrap_or_default().to_owned(),
        status,
        message: err.message().unwrap_or_default().to_owned(),
    }
}

/// Asserts the code, HTTP 400, and that the message mentions every one of `names`.
fn assert_failure(failure: &Failure, code: &str, names: &[&str]) {
    assert_eq!((failure.code.as_str(), failure.status), (code, 400), "{failure:?}");
    for name in names {
        assert!(failure.message.contains(name), "the message should name {name}: {failure:?}");
    }
}

/// A CreateGameSession request for four players in the test location of `fleet_id`.
fn create(
    client: &Client,
    fleet_id: &str,
) -> aws_sdk_gamelift::operation::create_game_session::builders::CreateGameSessionFluentBuilder {
    client.create_game_session().fleet_id(fleet_id).location(LOCATION).maximum_player_session_count(4)
}

/// A fleet with one compute and `processes` ready game servers on it.
async fn fleet_with_games(h: &Harness, processes: u16) -> (Compute, Vec<Game>) {
    let compute = h.fleet_with_compute("host-1").await;
    let mut games = Vec::new();
    for i in 0..processes {
        games.push(Game::start(h, &compute, 7000 + i, OnStart::Activate).await);
    }
    (compute, games)
}

#[tokio::test]
async fn unknown_fleet_or_alias_is_not_found() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let missing_fleet = "fleet-00000000-0000-4000-8000-000000000000";
    let err = failure(create(&client, missing_fleet).send().await);
    assert_failure(&err, "NotFoundException", &[missing_fleet]);

    let arn = format!("arn:aws:gamelift:{REGION}:111122223333:fleet/{missing_fleet}");
    let err = failure(create(&client, &arn).send().await);
    assert_failure(&err, "NotFoundException", &[missing_fleet]);

    let missing_alias = "alias-00000000-0000-4000-8000-000000000000";
    let request = client.create_game_session().alias_id(missing_alias).location(LOCATION);
    let err = failure(request.maximum_player_session_count(4).send().await);
    assert_failure(&err, "NotFoundException", &[missing_alias]);
    h.stop().await;
}

#[tokio::test]
async fn a_fleet_that_is_not_active_is_refused_with_invalid_fleet_status() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let compute = h.fleet_with_compute("host-1").await;
    let _game = Game::start(&h, &compute, 7000, OnStart::Activate).await;
    // Anywhere fleets are ACTIVE from creation until deleted (then not found), so no API call
    // leaves a live fleet in another status; put it in ERROR directly in the store.
    let stored = h.app.store.get_fleet(&compute.fleet_id).await.unwrap().expect("the fleet is stored");
    let mut fleet = stored.value;
    fleet.attributes.status = Some(FleetStatus::Error);
    h.app.store.update_fleet(&fleet, stored.version, &[]).await.unwrap();

    let err = failure(create(&client, &compute.fleet_id).send().await);
    assert_failure(&err, "InvalidFleetStatusException", &[&compute.fleet_id, "ACTIVE"]);
    h.stop().await;
}

#[tokio::test]
async fn a_terminal_alias_refuses_with_its_routing_message() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let strategy = RoutingStrategy::builder()
        .r#type(RoutingStrategyType::Terminal)
        .message("The servers are closed for the night.")
        .build();
    let alias = client.create_alias().name("closed").routing_strategy(strategy).send().await.expect("CreateAlias");
    let alias_id = alias.alias().and_then(|a| a.alias_id()).unwrap().to_owned();

    let request = client.create_game_session().alias_id(&alias_id).location(LOCATION);
    let err = failure(request.maximum_player_session_count(4).send().await);
    assert_failure(&err, "TerminalRoutingStrategyException", &[]);
    assert_eq!(err.message, "The servers are closed for the night.");
    h.stop().await;
}

#[tokio::test]
async fn fleet_and_alias_together_or_neither_is_an_invalid_request() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let compute = h.fleet_with_compute("host-1").await;
    let strategy = RoutingStrategy::builder().r#type(RoutingStrategyType::Simple).fleet_id(&compute.fleet_id).build();
    let alias = client.create_alias().name("live").routing_strategy(strategy).send().await.expect("CreateAlias");
    let alias_id = alias.alias().and_then(|a| a.alias_id()).unwrap().to_owned();

    let err = failure(create(&client, &compute.fleet_id).alias_id(&alias_id).send().await);
    assert_failure(&err, "InvalidRequestException", &["FleetId", "AliasId"]);
    let neither = client.create_game_session().location(LOCATION).maximum_player_session_count(4);
    let err = failure(neither.send().await);
    assert_failure(&err, "InvalidRequestException", &["FleetId", "AliasId"]);

    // The alias alone reaches the fleet: no process is ready there yet.
    let via_alias = client.create_game_session().alias_id(&alias_id).location(LOCATION);
    let err = failure(via_alias.maximum_player_session_count(4).send().await);
    assert_failure(&err, "FleetCapacityExceededException", &[&compute.fleet_id]);
    h.stop().await;
}

#[tokio::test]
async fn an_anywhere_fleet_needs_one_of_its_own_locations() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let compute = h.fleet_with_compute("host-1").await;

    let request = client.create_game_session().fleet_id(&compute.fleet_id).maximum_player_session_count(4);
    let err = failure(request.send().await);
    assert_failure(&err, "InvalidRequestException", &["Location", &compute.fleet_id]);

    let err = failure(create(&client, &compute.fleet_id).location("custom-elsewhere").send().await);
    assert_failure(&err, "InvalidRequestException", &["custom-elsewhere", &compute.fleet_id]);
    // The home Region is one of the fleet's locations, but an Anywhere fleet hosts nothing there.
    let err = failure(create(&client, &compute.fleet_id).location(REGION).send().await);
    assert_failure(&err, "InvalidRequestException", &[REGION, "home Region", &compute.fleet_id]);
    h.stop().await;
}

#[tokio::test]
async fn field_constraints_are_invalid_requests_naming_the_member() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let compute = h.fleet_with_compute("host-1").await;
    let fleet_id = compute.fleet_id.as_str();

    let err = failure(create(&client, fleet_id).maximum_player_session_count(-1).send().await);
    assert_failure(&err, "InvalidRequestException", &["'maximumPlayerSessionCount'", "greater than or equal to 0"]);
    let err = failure(create(&client, fleet_id).maximum_player_session_count(201).send().await);
    assert_failure(&err, "InvalidRequestException", &["MaximumPlayerSessionCount", "200"]);
    let err = failure(create(&client, fleet_id).idempotency_token("not a token!").send().await);
    assert_failure(&err, "InvalidRequestException", &["'idempotencyToken'", "not a token!"]);
    let err = failure(create(&client, fleet_id).idempotency_token("t".repeat(49)).send().await);
    assert_failure(&err, "InvalidRequestException", &["'idempotencyToken'", "less than or equal to 48"]);
    let err = failure(create(&client, fleet_id).name("").send().await);
    assert_failure(&err, "InvalidRequestException", &["'name'"]);
    let err = failure(create(&client, fleet_id).location("custom_lab").send().await);
    assert_failure(&err, "InvalidRequestException", &["'location'"]);
    let long_key = GameProperty::builder().key("k".repeat(33)).value("v").build();
    let err = failure(create(&client, fleet_id).game_properties(long_key).send().await);
    assert_failure(&err, "InvalidRequestException", &["'gameProperties.1.member.key'"]);
    let long_value = GameProperty::builder().key("map").value("v".repeat(97)).build();
    let err = failure(create(&client, fleet_id).game_properties(long_value).send().await);
    assert_failure(&err, "InvalidRequestException", &["'gameProperties.1.member.value'"]);
    let mut seventeen = create(&client, fleet_id);
    for i in 0..17 {
        seventeen = seventeen.game_properties(GameProperty::builder().key(format!("k{i}")).value("v").build());
    }
    let err = failure(seventeen.send().await);
    assert_failure(&err, "InvalidRequestException", &["'gameProperties'"]);
    let err = failure(create(&client, fleet_id).game_session_data("d".repeat(262_145)).send().await);
    assert_failure(&err, "InvalidRequestException", &["'gameSessionData'"]);
    let err = failure(create(&client, fleet_id).idempotency_token("a").game_session_id("b").send().await);
    assert_failure(&err, "InvalidRequestException", &["IdempotencyToken", "GameSessionId"]);
    h.stop().await;
}

#[tokio::test]
async fn no_ready_process_is_fleet_capacity_exceeded_until_one_is_ready() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let compute = h.fleet_with_compute("host-1").await;

    let err = failure(create(&client, &compute.fleet_id).send().await);
    assert_failure(&err, "FleetCapacityExceededException", &[&compute.fleet_id, LOCATION]);

    let mut game = Game::start(&h, &compute, 7000, OnStart::Activate).await;
    let created = create(&client, &compute.fleet_id).send().await.expect("CreateGameSession");
    let id = created.game_session().and_then(|s| s.game_session_id()).unwrap();
    assert_eq!(game.next_session().await.game_session_id, id);
    // The one process is busy now.
    let err = failure(create(&client, &compute.fleet_id).send().await);
    assert_failure(&err, "FleetCapacityExceededException", &[&compute.fleet_id]);
    h.stop().await;
}

#[tokio::test]
async fn a_creator_limit_policy_refuses_sessions_beyond_its_count_in_the_window() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let (compute, _games) = fleet_with_games(&h, 4).await;
    let policy =
        ResourceCreationLimitPolicy::builder().new_game_sessions_per_creator(2).policy_period_in_minutes(10).build();
    let update = client.update_fleet_attributes().fleet_id(&compute.fleet_id).resource_creation_limit_policy(policy);
    update.send().await.expect("UpdateFleetAttributes");

    for _ in 0..2 {
        create(&client, &compute.fleet_id).creator_id("ana").send().await.expect("within the limit");
        h.clock.advance(Duration::from_secs(60));
    }
    let err = failure(create(&client, &compute.fleet_id).creator_id("ana").send().await);
    assert_failure(&err, "LimitExceededException", &["ana", "600 seconds"]);
    // Another creator is not held back by ana's count.
    create(&client, &compute.fleet_id).creator_id("ben").send().await.expect("another creator");
    // With a policy, a request must name its creator.
    let err = failure(create(&client, &compute.fleet_id).send().await);
    assert_failure(&err, "InvalidRequestException", &["CreatorId", &compute.fleet_id]);
    // Ten minutes after ana's first session, one slot of her window is free again.
    h.clock.advance(Duration::from_secs(8 * 60 + 1));
    create(&client, &compute.fleet_id).creator_id("ana").send().await.expect("the window moved on");
    h.stop().await;
}

#[tokio::test]
async fn a_creator_without_a_policy_may_create_one_session_a_second() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let (compute, _games) = fleet_with_games(&h, 3).await;

    create(&client, &compute.fleet_id).creator_id("ana").send().await.expect("the first session");
    let err = failure(create(&client, &compute.fleet_id).creator_id("ana").send().await);
    assert_failure(&err, "LimitExceededException", &["ana", "1 seconds"]);
    create(&client, &compute.fleet_id).send().await.expect("without a CreatorId nothing is limited");
    h.clock.advance(Duration::from_millis(1001));
    create(&client, &compute.fleet_id).creator_id("ana").send().await.expect("a second later");
    h.stop().await;
}

#[tokio::test]
async fn a_reused_token_with_other_parameters_is_an_idempotent_parameter_mismatch() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let second_location = "custom-lab-2";
    client.create_location().location_name(second_location).send().await.expect("CreateLocation");
    let (compute, mut games) = fleet_with_games(&h, 1).await;
    let add = client
        .create_fleet_locations()
        .fleet_id(&compute.fleet_id)
        .locations(aws_sdk_gamelift::types::LocationConfiguration::builder().location(second_location).build());
    add.send().await.expect("CreateFleetLocations");

    let created = create(&client, &compute.fleet_id).name("duel").idempotency_token("duel-7").send().await.unwrap();
    let id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    assert!(id.ends_with(&format!("/{}/{LOCATION}/duel-7", compute.fleet_id)), "{id}");
    games[0].next_session().await;

    let again = create(&client, &compute.fleet_id).name("duel").idempotency_token("duel-7").send().await.unwrap();
    assert_eq!(again.game_session().and_then(|s| s.game_session_id()), Some(id.as_str()));

    let other_name = create(&client, &compute.fleet_id).name("brawl").idempotency_token("duel-7").send().await;
    assert_failure(&failure(other_name), "IdempotentParameterMismatchException", &[&id]);
    let other_count = create(&client, &compute.fleet_id).name("duel").maximum_player_session_count(5);
    assert_failure(
        &failure(other_count.idempotency_token("duel-7").send().await),
        "IdempotentParameterMismatchException",
        &[&id],
    );
    // The deprecated GameSessionId is the same custom ID string.
    let custom_id = create(&client, &compute.fleet_id).game_session_id("duel-7").send().await;
    assert_failure(&failure(custom_id), "IdempotentParameterMismatchException", &[&id]);
    // The ID string names one session, whichever location or fleet a request names.
    let elsewhere = create(&client, &compute.fleet_id).name("duel").location(second_location);
    assert_failure(
        &failure(elsewhere.idempotency_token("duel-7").send().await),
        "IdempotentParameterMismatchException",
        &[&id],
    );
    let other_fleet = h.fleet_with_compute("host-2").await;
    let reused = create(&client, &other_fleet.fleet_id).name("duel").idempotency_token("duel-7").send().await;
    assert_failure(&failure(reused), "IdempotentParameterMismatchException", &[&id]);
    h.stop().await;
}

#[tokio::test]
async fn concurrent_requests_with_one_token_create_one_session_on_one_process() {
    let h = Harness::start().await;
    let client = h.gamelift_at_server_time();
    let (compute, games) = fleet_with_games(&h, 5).await;

    let mut requests = tokio::task::JoinSet::new();
    for _ in 0..20 {
        let request = create(&client, &compute.fleet_id).idempotency_token("lobby-1");
        requests.spawn(request.send());
    }
    let mut ids = std::collections::BTreeSet::new();
    while let Some(joined) = requests.join_next().await {
        let created = joined.unwrap().expect("every duplicate gets the original");
        ids.insert(created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned());
    }
    assert_eq!(ids.len(), 1, "{ids:?}");

    let described = client.describe_game_sessions().fleet_id(&compute.fleet_id).send().await.unwrap();
    assert_eq!(described.game_sessions().len(), 1);
    // Exactly one process was told, and the four others are still free for new sessions.
    let deadline = std::time::Instant::now() + sdk_endpoint_support::WAIT;
    loop {
        let status = client.describe_game_sessions().fleet_id(&compute.fleet_id).send().await.unwrap();
        if status.game_sessions()[0].status() == Some(&GameSessionStatus::Active) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "the session never became ACTIVE");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pushed: usize = games.iter().map(|g| g.pushes.load(std::sync::atomic::Ordering::SeqCst)).sum();
    assert_eq!(pushed, 1);
    for _ in 0..4 {
        create(&client, &compute.fleet_id).send().await.expect("a free process remains");
    }
    let err = failure(create(&client, &compute.fleet_id).send().await);
    assert_failure(&err, "FleetCapacityExceededException", &[&compute.fleet_id]);
    h.stop().await;
}
