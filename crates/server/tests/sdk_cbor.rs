//! End-to-end tests with the real `aws-sdk-gamelift` crate, which speaks Smithy RPC v2
//! CBOR (`control-plane-api.md` sections 2.9 and 7): every implemented operation, the
//! typed errors the SDK raises, and timestamps decoded as `DateTime`s.
//!
//! Each test runs its own server on a [`ManualClock`](openlift_core::clock::ManualClock)
//! set near the real time, so creation times and expiries are known exactly.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use aws_sdk_gamelift::Client;
use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::primitives::DateTime;
use aws_sdk_gamelift::types::{
    AnywhereConfiguration, ComputeStatus, ComputeType, Ec2InstanceType, EventCode, FleetStatus, LocationConfiguration,
    LocationFilter, ProtectionPolicy, RoutingStrategy, RoutingStrategyType, RuntimeConfiguration, ServerProcess, Tag,
};
use common::{ACCOUNT_ID, REGION, TestServer, near_now};
use openlift_model::Timestamp;

/// The SDK's view of a server timestamp.
fn datetime(t: Timestamp) -> DateTime {
    DateTime::from_millis(t.as_millis())
}

/// The service error of a call that must fail.
macro_rules! service_error {
    ($result:expr $(,)?) => {
        match $result {
            Ok(output) => panic!("expected an error, got {output:?}"),
            Err(err) => err.into_service_error(),
        }
    };
}

async fn server() -> (TestServer, Client) {
    let server = TestServer::start_with_clock(near_now()).await;
    let client = server.sdk();
    (server, client)
}

fn now(server: &TestServer) -> Timestamp {
    Timestamp::from(server.now())
}

async fn create_location(client: &Client, name: &str) {
    client.create_location().location_name(name).send().await.expect("CreateLocation");
}

/// Creates an Anywhere fleet in the home Region and `locations` (created first if needed).
async fn create_fleet(client: &Client, name: &str, locations: &[&str]) -> String {
    for location in locations {
        let _ = client.create_location().location_name(*location).send().await;
    }
    let mut request = client.create_fleet().name(name).compute_type(ComputeType::Anywhere);
    for location in locations {
        request = request.locations(LocationConfiguration::builder().location(*location).build());
    }
    let output = request.send().await.expect("CreateFleet");
    output.fleet_attributes().and_then(|a| a.fleet_id()).expect("FleetId").to_owned()
}

async fn register(client: &Client, fleet_id: &str, compute: &str, location: &str) {
    client
        .register_compute()
        .fleet_id(fleet_id)
        .compute_name(compute)
        .location(location)
        .ip_address("10.0.0.7")
        .send()
        .await
        .expect("RegisterCompute");
}

#[tokio::test]
async fn custom_locations_are_created_listed_paged_and_deleted() {
    let (server, client) = server().await;

    let created = client.create_location().location_name("custom-home-lab").send().await.unwrap();
    let location = created.location().unwrap();
    assert_eq!(location.location_name(), Some("custom-home-lab"));
    assert_eq!(
        location.location_arn(),
        Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:location/custom-home-lab").as_str())
    );
    create_location(&client, "custom-office").await;

    let err = service_error!(client.create_location().location_name("custom-office").send().await);
    assert!(err.is_conflict_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Location custom-office already exists."));

    let err = service_error!(client.create_location().location_name("no-prefix").send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("'locationName'"), "{err:?}");

    let all = client.list_locations().send().await.unwrap();
    let names: Vec<_> = all.locations().iter().filter_map(|l| l.location_name()).collect();
    assert_eq!(names, [REGION, "custom-home-lab", "custom-office"]);
    assert_eq!(all.next_token(), None);

    let custom = client.list_locations().filters(LocationFilter::Custom).send().await.unwrap();
    let names: Vec<_> = custom.locations().iter().filter_map(|l| l.location_name()).collect();
    assert_eq!(names, ["custom-home-lab", "custom-office"]);
    let aws = client.list_locations().filters(LocationFilter::Aws).send().await.unwrap();
    let names: Vec<_> = aws.locations().iter().filter_map(|l| l.location_name()).collect();
    assert_eq!(names, [REGION]);

    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = client.list_locations().limit(1).set_next_token(token).send().await.unwrap();
        assert!(page.locations().len() <= 1);
        paged.extend(page.locations().iter().filter_map(|l| l.location_name().map(str::to_owned)));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged, [REGION, "custom-home-lab", "custom-office"]);

    client.delete_location().location_name("custom-office").send().await.unwrap();
    let err = service_error!(client.delete_location().location_name("custom-office").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Location custom-office not found."));

    let fleet_id = create_fleet(&client, "uses-home-lab", &["custom-home-lab"]).await;
    let err = service_error!(client.delete_location().location_name("custom-home-lab").send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains(&fleet_id), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn anywhere_fleet_is_created_active_in_the_home_region_and_its_custom_locations() {
    let (server, client) = server().await;
    create_location(&client, "custom-a").await;
    let created_at = now(&server);

    let output = client
        .create_fleet()
        .name("anywhere")
        .description("lab machines")
        .compute_type(ComputeType::Anywhere)
        .anywhere_configuration(AnywhereConfiguration::builder().cost("0.25").build())
        .locations(LocationConfiguration::builder().location("custom-a").build())
        .send()
        .await
        .unwrap();
    let attributes = output.fleet_attributes().unwrap();
    let fleet_id = attributes.fleet_id().unwrap();
    assert!(fleet_id.starts_with("fleet-"), "{fleet_id}");
    assert_eq!(
        attributes.fleet_arn(),
        Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}").as_str())
    );
    assert_eq!(attributes.name(), Some("anywhere"));
    assert_eq!(attributes.description(), Some("lab machines"));
    assert_eq!(attributes.status(), Some(&FleetStatus::Active));
    assert_eq!(attributes.compute_type(), Some(&ComputeType::Anywhere));
    assert_eq!(attributes.creation_time(), Some(&datetime(created_at)));
    assert_eq!(attributes.termination_time(), None);
    assert_eq!(attributes.metric_groups(), ["default"]);
    assert_eq!(attributes.new_game_session_protection_policy(), Some(&ProtectionPolicy::NoProtection));
    assert_eq!(attributes.anywhere_configuration().and_then(|a| a.cost()), Some("0.25"));
    let states: Vec<_> =
        output.location_states().iter().map(|s| (s.location().unwrap(), s.status().unwrap())).collect();
    assert_eq!(states, [(REGION, &FleetStatus::Active), ("custom-a", &FleetStatus::Active)]);

    let err = service_error!(
        client
            .create_fleet()
            .name("nowhere")
            .compute_type(ComputeType::Anywhere)
            .locations(LocationConfiguration::builder().location("custom-missing").build())
            .send()
            .await,
    );
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Location custom-missing not found; create it with CreateLocation first."));
    server.stop().await;
}

#[tokio::test]
async fn ec2_fleets_are_refused_with_invalid_request() {
    let (server, client) = server().await;
    create_location(&client, "custom-a").await;

    let err = service_error!(
        client
            .create_fleet()
            .name("ec2")
            .compute_type(ComputeType::Ec2)
            .locations(LocationConfiguration::builder().location("custom-a").build())
            .send()
            .await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert_eq!(
        err.message(),
        Some("ComputeType EC2 is not supported by openlift yet; create fleets with ComputeType ANYWHERE.")
    );

    let err = service_error!(
        client
            .create_fleet()
            .name("mixed")
            .compute_type(ComputeType::Anywhere)
            .build_id("build-1")
            .locations(LocationConfiguration::builder().location("custom-a").build())
            .send()
            .await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("BuildId"), "{err:?}");

    let listed = client.list_fleets().send().await.unwrap();
    assert!(listed.fleet_ids().is_empty(), "a refused fleet was stored: {listed:?}");
    server.stop().await;
}

#[tokio::test]
async fn a_typical_ec2_create_fleet_is_refused_for_its_compute_type() {
    // What an EC2 user sends: no ComputeType (EC2 by default), a build, an instance type,
    // no Locations. The refusal must say EC2 is unsupported, not ask for custom locations.
    let (server, client) = server().await;
    let err = service_error!(
        client.create_fleet().name("ec2").ec2_instance_type(Ec2InstanceType::C5Large).build_id("build-1").send().await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("ComputeType EC2 is not supported"), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn describe_fleet_attributes_keeps_the_requested_order_leaves_out_unknown_ids_and_pages() {
    let (server, client) = server().await;
    let first = create_fleet(&client, "first", &["custom-a"]).await;
    let second = create_fleet(&client, "second", &["custom-a"]).await;
    let third = create_fleet(&client, "third", &["custom-a"]).await;
    let third_arn = format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{third}");

    let described = client
        .describe_fleet_attributes()
        .fleet_ids(&third_arn)
        .fleet_ids("fleet-00000000-0000-0000-0000-000000000000")
        .fleet_ids(&first)
        .send()
        .await
        .unwrap();
    let ids: Vec<_> = described.fleet_attributes().iter().filter_map(|a| a.fleet_id()).collect();
    assert_eq!(ids, [third.as_str(), first.as_str()]);
    assert_eq!(described.next_token(), None);

    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = client.describe_fleet_attributes().limit(2).set_next_token(token).send().await.unwrap();
        assert!(page.fleet_attributes().len() <= 2);
        paged.extend(page.fleet_attributes().iter().filter_map(|a| a.fleet_id().map(str::to_owned)));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged.len(), 3, "{paged:?}");
    let expected: BTreeSet<_> = [first.clone(), second.clone(), third.clone()].into();
    assert_eq!(paged.into_iter().collect::<BTreeSet<_>>(), expected);

    let mut listed = Vec::new();
    let mut token = None;
    loop {
        let page = client.list_fleets().limit(1).set_next_token(token).send().await.unwrap();
        assert!(page.fleet_ids().len() <= 1);
        listed.extend(page.fleet_ids().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(listed.len(), 3, "{listed:?}");
    assert_eq!(listed.into_iter().collect::<BTreeSet<_>>(), expected);

    let err = service_error!(client.list_fleets().next_token("forged-token").send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn update_fleet_attributes_changes_the_fleet_and_records_events() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "before", &["custom-a"]).await;
    server.clock().advance(Duration::from_secs(5));
    let updated_at = now(&server);

    let output = client
        .update_fleet_attributes()
        .fleet_id(&fleet_id)
        .name("after")
        .description("renamed")
        .new_game_session_protection_policy(ProtectionPolicy::FullProtection)
        .metric_groups("lab")
        .send()
        .await
        .unwrap();
    assert_eq!(output.fleet_id(), Some(fleet_id.as_str()));
    assert_eq!(output.fleet_arn(), Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}").as_str()));

    let described = client.describe_fleet_attributes().fleet_ids(&fleet_id).send().await.unwrap();
    let attributes = &described.fleet_attributes()[0];
    assert_eq!(attributes.name(), Some("after"));
    assert_eq!(attributes.description(), Some("renamed"));
    assert_eq!(attributes.new_game_session_protection_policy(), Some(&ProtectionPolicy::FullProtection));
    assert_eq!(attributes.metric_groups(), ["lab"]);

    let events = client.describe_fleet_events().fleet_id(&fleet_id).send().await.unwrap();
    let newest: BTreeSet<_> = events
        .events()
        .iter()
        .filter(|e| e.event_time() == Some(&datetime(updated_at)))
        .map(|e| (e.event_code().unwrap().as_str().to_owned(), e.message().unwrap().to_owned()))
        .collect();
    let expected: BTreeSet<_> = [
        (
            EventCode::FleetNewGameSessionProtectionPolicyUpdated.as_str().to_owned(),
            format!("Fleet {fleet_id} new game session protection policy changed to FullProtection."),
        ),
        (
            EventCode::GenericEvent.as_str().to_owned(),
            format!("Fleet {fleet_id} attributes updated: Name, Description, MetricGroups."),
        ),
    ]
    .into();
    assert_eq!(newest, expected);

    let err = service_error!(client.update_fleet_attributes().fleet_id("fleet-missing").name("x").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Fleet fleet-missing not found."));
    server.stop().await;
}

#[tokio::test]
async fn deleted_fleet_is_terminated_hidden_and_keeps_its_events() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "short-lived", &["custom-a"]).await;
    register(&client, &fleet_id, "box-1", "custom-a").await;
    server.clock().advance(Duration::from_secs(3));
    let deleted_at = now(&server);

    client.delete_fleet().fleet_id(&fleet_id).send().await.unwrap();

    let described = client.describe_fleet_attributes().fleet_ids(&fleet_id).send().await.unwrap();
    assert!(described.fleet_attributes().is_empty(), "{described:?}");
    assert!(client.list_fleets().send().await.unwrap().fleet_ids().is_empty());
    let events = client.describe_fleet_events().fleet_id(&fleet_id).send().await.unwrap();
    let newest = &events.events()[0];
    assert_eq!(newest.event_code(), Some(&EventCode::FleetDeleted));
    assert_eq!(newest.event_time(), Some(&datetime(deleted_at)));
    let runtime = client.describe_runtime_configuration().fleet_id(&fleet_id).send().await.unwrap();
    assert!(runtime.runtime_configuration().is_none(), "{runtime:?}");
    let err = service_error!(client.describe_compute().fleet_id(&fleet_id).compute_name("box-1").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");

    let err = service_error!(client.delete_fleet().fleet_id(&fleet_id).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Fleet {fleet_id} not found.").as_str()));
    server.stop().await;
}

#[tokio::test]
async fn runtime_configuration_is_replaced_with_defaults_and_described() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "runtime", &["custom-a"]).await;
    let process = ServerProcess::builder()
        .launch_path("/local/game/server")
        .parameters("--port 7777")
        .concurrent_executions(2)
        .build();

    let updated = client
        .update_runtime_configuration()
        .fleet_id(&fleet_id)
        .runtime_configuration(RuntimeConfiguration::builder().server_processes(process.clone()).build())
        .send()
        .await
        .unwrap();
    let rc = updated.runtime_configuration().unwrap();
    assert_eq!(rc.server_processes(), std::slice::from_ref(&process));
    assert_eq!(rc.max_concurrent_game_session_activations(), Some(i32::MAX));
    assert_eq!(rc.game_session_activation_timeout_seconds(), Some(600));

    let described = client.describe_runtime_configuration().fleet_id(&fleet_id).send().await.unwrap();
    assert_eq!(described.runtime_configuration(), Some(rc));

    let too_many = ServerProcess::builder().launch_path("/local/game/server").concurrent_executions(51).build();
    let err = service_error!(
        client
            .update_runtime_configuration()
            .fleet_id(&fleet_id)
            .runtime_configuration(RuntimeConfiguration::builder().server_processes(too_many).build())
            .send()
            .await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("at most 50 server processes"), "{err:?}");

    let err = service_error!(client.describe_runtime_configuration().fleet_id("fleet-missing").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn fleet_events_are_listed_newest_first_filtered_by_time_and_paged() {
    let (server, client) = server().await;
    let created_at = now(&server);
    let fleet_id = create_fleet(&client, "events", &["custom-a"]).await;
    server.clock().advance(Duration::from_secs(10));
    let renamed_at = now(&server);
    client.update_fleet_attributes().fleet_id(&fleet_id).name("renamed").send().await.unwrap();
    server.clock().advance(Duration::from_secs(10));
    let configured_at = now(&server);
    let rc = RuntimeConfiguration::builder()
        .server_processes(ServerProcess::builder().launch_path("/local/game/a").concurrent_executions(1).build())
        .build();
    client.update_runtime_configuration().fleet_id(&fleet_id).runtime_configuration(rc).send().await.unwrap();

    let all = client.describe_fleet_events().fleet_id(&fleet_id).send().await.unwrap();
    let times: Vec<_> = all.events().iter().map(|e| *e.event_time().unwrap()).collect();
    assert_eq!(
        times,
        [datetime(configured_at), datetime(renamed_at), datetime(created_at), datetime(created_at)],
        "{all:?}"
    );
    assert_eq!(all.events()[0].message(), Some(format!("Fleet {fleet_id} runtime configuration updated.").as_str()));
    let oldest: BTreeSet<_> = all.events()[2..].iter().map(|e| e.event_code().unwrap().clone()).collect();
    assert_eq!(oldest, [EventCode::FleetCreated, EventCode::FleetStateActive].into());
    assert!(all.events().iter().all(|e| e.resource_id() == Some(fleet_id.as_str())));

    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = client.describe_fleet_events().fleet_id(&fleet_id).limit(1).set_next_token(token).send().await;
        let page = page.unwrap();
        assert_eq!(page.events().len(), 1);
        paged.extend(page.events().iter().cloned());
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged, all.events());

    let windowed = client
        .describe_fleet_events()
        .fleet_id(&fleet_id)
        .start_time(datetime(renamed_at))
        .end_time(datetime(renamed_at.plus(Duration::from_secs(1))))
        .send()
        .await
        .unwrap();
    let codes: Vec<_> = windowed.events().iter().map(|e| e.event_code().unwrap().clone()).collect();
    assert_eq!(codes, [EventCode::GenericEvent]);

    let err = service_error!(client.describe_fleet_events().fleet_id("fleet-missing").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn fleet_locations_are_added_described_in_requested_order_and_removed() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "multi", &["custom-a"]).await;
    create_location(&client, "custom-b").await;

    let added = client
        .create_fleet_locations()
        .fleet_id(&fleet_id)
        .locations(LocationConfiguration::builder().location("custom-b").build())
        .send()
        .await
        .unwrap();
    assert_eq!(added.fleet_id(), Some(fleet_id.as_str()));
    let states: Vec<_> = added.location_states().iter().map(|s| (s.location().unwrap(), s.status().unwrap())).collect();
    assert_eq!(states, [("custom-b", &FleetStatus::Active)]);

    let described = client
        .describe_fleet_location_attributes()
        .fleet_id(&fleet_id)
        .locations("custom-b")
        .locations("custom-not-here")
        .locations(REGION)
        .send()
        .await
        .unwrap();
    let names: Vec<_> =
        described.location_attributes().iter().filter_map(|a| a.location_state().and_then(|s| s.location())).collect();
    assert_eq!(names, ["custom-b", REGION]);
    let all = client.describe_fleet_location_attributes().fleet_id(&fleet_id).send().await.unwrap();
    assert_eq!(all.location_attributes().len(), 3);

    let again = LocationConfiguration::builder().location("custom-b").build();
    let err = service_error!(client.create_fleet_locations().fleet_id(&fleet_id).locations(again).send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Fleet {fleet_id} already has location custom-b.").as_str()));
    let region = LocationConfiguration::builder().location("us-east-1").build();
    let err = service_error!(client.create_fleet_locations().fleet_id(&fleet_id).locations(region).send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    let missing = LocationConfiguration::builder().location("custom-missing").build();
    let err = service_error!(client.create_fleet_locations().fleet_id(&fleet_id).locations(missing).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");

    register(&client, &fleet_id, "box-b", "custom-b").await;
    register(&client, &fleet_id, "box-a", "custom-a").await;
    let removed = client.delete_fleet_locations().fleet_id(&fleet_id).locations("custom-b").send().await.unwrap();
    let states: Vec<_> =
        removed.location_states().iter().map(|s| (s.location().unwrap(), s.status().unwrap())).collect();
    assert_eq!(states, [("custom-b", &FleetStatus::Deleting)]);
    let all = client.describe_fleet_location_attributes().fleet_id(&fleet_id).send().await.unwrap();
    let names: Vec<_> =
        all.location_attributes().iter().filter_map(|a| a.location_state().and_then(|s| s.location())).collect();
    assert_eq!(names, [REGION, "custom-a"]);
    let computes = client.list_compute().fleet_id(&fleet_id).send().await.unwrap();
    let names: Vec<_> = computes.compute_list().iter().filter_map(|c| c.compute_name()).collect();
    assert_eq!(names, ["box-a"], "computes in a removed location must be deregistered");

    let err = service_error!(client.delete_fleet_locations().fleet_id(&fleet_id).locations(REGION).send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("home Region"), "{err:?}");
    let err = service_error!(client.describe_fleet_location_attributes().fleet_id("fleet-missing").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn register_compute_returns_an_active_compute_with_the_sdk_endpoint() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "computes", &["custom-a"]).await;
    let registered_at = now(&server);

    let output = client
        .register_compute()
        .fleet_id(&fleet_id)
        .compute_name("box-1")
        .location("custom-a")
        .ip_address("10.0.0.1")
        .dns_name("box-1.lab")
        .send()
        .await
        .unwrap();
    let compute = output.compute().unwrap();
    assert_eq!(compute.compute_name(), Some("box-1"));
    assert_eq!(compute.compute_arn(), Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:compute/box-1").as_str()));
    assert_eq!(compute.fleet_id(), Some(fleet_id.as_str()));
    assert_eq!(compute.fleet_arn(), Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}").as_str()));
    assert_eq!(compute.compute_status(), Some(&ComputeStatus::Active));
    assert_eq!(compute.location(), Some("custom-a"));
    assert_eq!(compute.ip_address(), Some("10.0.0.1"));
    assert_eq!(compute.dns_name(), Some("box-1.lab"));
    assert_eq!(compute.creation_time(), Some(&datetime(registered_at)));
    assert_eq!(compute.game_lift_service_sdk_endpoint(), Some(format!("ws://{}", server.addr).as_str()));
    assert_eq!(compute.game_lift_agent_endpoint(), Some(format!("ws://{}/agent", server.addr).as_str()));

    let described = client.describe_compute().fleet_id(&fleet_id).compute_name("box-1").send().await.unwrap();
    assert_eq!(described.compute(), Some(compute));

    let err = service_error!(
        client
            .register_compute()
            .fleet_id(&fleet_id)
            .compute_name("box-1")
            .location("custom-a")
            .ip_address("10.0.0.2")
            .send()
            .await,
    );
    assert!(err.is_conflict_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Compute box-1 is already registered with fleet {fleet_id}.").as_str()));

    create_location(&client, "custom-elsewhere").await;
    let err = service_error!(
        client
            .register_compute()
            .fleet_id(&fleet_id)
            .compute_name("box-2")
            .location("custom-elsewhere")
            .ip_address("10.0.0.2")
            .send()
            .await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().contains("custom-elsewhere is not a custom location of fleet"), "{err:?}");

    let err = service_error!(
        client.register_compute().fleet_id(&fleet_id).compute_name("box-3").ip_address("10.0.0.3").send().await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert!(err.message().unwrap().starts_with("Location is required"), "{err:?}");

    let err = service_error!(
        client
            .register_compute()
            .fleet_id("fleet-missing")
            .compute_name("box-4")
            .location("custom-a")
            .ip_address("10.0.0.4")
            .send()
            .await,
    );
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Fleet fleet-missing not found."));
    server.stop().await;
}

#[tokio::test]
async fn computes_are_listed_by_location_with_paging_and_deregistered() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "computes", &["custom-a", "custom-b"]).await;
    for (name, location) in [("a-1", "custom-a"), ("a-2", "custom-a"), ("b-1", "custom-b")] {
        register(&client, &fleet_id, name, location).await;
    }

    let in_a = client.list_compute().fleet_id(&fleet_id).location("custom-a").send().await.unwrap();
    let names: BTreeSet<_> = in_a.compute_list().iter().filter_map(|c| c.compute_name()).collect();
    assert_eq!(names, ["a-1", "a-2"].into());

    let mut paged = Vec::new();
    let mut token = None;
    loop {
        let page = client.list_compute().fleet_id(&fleet_id).limit(2).set_next_token(token).send().await.unwrap();
        assert!(page.compute_list().len() <= 2);
        paged.extend(page.compute_list().iter().filter_map(|c| c.compute_name().map(str::to_owned)));
        token = page.next_token().map(str::to_owned);
        if token.is_none() {
            break;
        }
    }
    assert_eq!(paged.len(), 3, "{paged:?}");
    assert_eq!(paged.iter().map(String::as_str).collect::<BTreeSet<_>>(), ["a-1", "a-2", "b-1"].into());

    let compute_arn = format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:compute/a-1");
    client.deregister_compute().fleet_id(&fleet_id).compute_name(&compute_arn).send().await.unwrap();
    let err = service_error!(client.describe_compute().fleet_id(&fleet_id).compute_name("a-1").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Compute a-1 not found in fleet {fleet_id}.").as_str()));
    let err = service_error!(client.deregister_compute().fleet_id(&fleet_id).compute_name("a-1").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    let rest = client.list_compute().fleet_id(&fleet_id).send().await.unwrap();
    assert_eq!(rest.compute_list().len(), 2);

    let err = service_error!(client.list_compute().fleet_id("fleet-missing").send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn compute_auth_token_is_a_fresh_token_that_expires_three_hours_after_issue() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "tokens", &["custom-a"]).await;
    register(&client, &fleet_id, "box-1", "custom-a").await;
    let issued_at = now(&server);

    let token = client.get_compute_auth_token().fleet_id(&fleet_id).compute_name("box-1").send().await.unwrap();
    let text = token.auth_token().unwrap();
    assert!(!text.is_empty() && text.len() <= 64, "{text}");
    assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{text}");
    assert_eq!(token.expiration_timestamp(), Some(&datetime(issued_at.plus(Duration::from_secs(3 * 60 * 60)))));
    assert_eq!(token.fleet_id(), Some(fleet_id.as_str()));
    assert_eq!(token.fleet_arn(), Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}").as_str()));
    assert_eq!(token.compute_name(), Some("box-1"));
    assert_eq!(token.compute_arn(), Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:compute/box-1").as_str()));

    let second = client.get_compute_auth_token().fleet_id(&fleet_id).compute_name("box-1").send().await.unwrap();
    assert_ne!(second.auth_token(), token.auth_token(), "every call mints a new token");

    let err = service_error!(client.get_compute_auth_token().fleet_id(&fleet_id).compute_name("box-9").send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn aliases_are_created_described_listed_updated_resolved_and_deleted() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "target", &["custom-a"]).await;
    let created_at = now(&server);

    let simple = RoutingStrategy::builder().r#type(RoutingStrategyType::Simple).fleet_id(&fleet_id).build();
    let created = client.create_alias().name("live").description("players go here").routing_strategy(simple);
    let alias = created.send().await.unwrap().alias().unwrap().clone();
    let alias_id = alias.alias_id().unwrap().to_owned();
    assert!(alias_id.starts_with("alias-"), "{alias_id}");
    assert_eq!(alias.alias_arn(), Some(format!("arn:aws:gamelift:{REGION}::alias/{alias_id}").as_str()));
    assert_eq!(alias.name(), Some("live"));
    assert_eq!(alias.creation_time(), Some(&datetime(created_at)));
    assert_eq!(alias.last_updated_time(), Some(&datetime(created_at)));
    assert_eq!(alias.routing_strategy().and_then(|s| s.fleet_id()), Some(fleet_id.as_str()));

    let described = client.describe_alias().alias_id(&alias_id).send().await.unwrap();
    assert_eq!(described.alias(), Some(&alias));

    let terminal = RoutingStrategy::builder()
        .r#type(RoutingStrategyType::Terminal)
        .fleet_id(&fleet_id)
        .message("Season over, see you in spring.")
        .build();
    let closed = client.create_alias().name("closed").routing_strategy(terminal).send().await.unwrap();
    let closed = closed.alias().unwrap();
    let closed_id = closed.alias_id().unwrap();
    assert_eq!(closed.routing_strategy().and_then(|s| s.fleet_id()), None, "TERMINAL drops the fleet ID");

    let resolved = client.resolve_alias().alias_id(&alias_id).send().await.unwrap();
    assert_eq!(resolved.fleet_id(), Some(fleet_id.as_str()));
    assert_eq!(resolved.fleet_arn(), Some(format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}").as_str()));
    let err = service_error!(client.resolve_alias().alias_id(closed_id).send().await);
    assert!(err.is_terminal_routing_strategy_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Season over, see you in spring."));

    let all = client.list_aliases().send().await.unwrap();
    assert_eq!(all.aliases().len(), 2);
    let terminal_only = client.list_aliases().routing_strategy_type(RoutingStrategyType::Terminal).send().await;
    let ids: Vec<_> = terminal_only.unwrap().aliases().iter().filter_map(|a| a.alias_id().map(str::to_owned)).collect();
    assert_eq!(ids, [closed_id]);
    let by_name = client.list_aliases().name("live").send().await.unwrap();
    let ids: Vec<_> = by_name.aliases().iter().filter_map(|a| a.alias_id()).collect();
    assert_eq!(ids, [alias_id.as_str()]);
    let first_page = client.list_aliases().limit(1).send().await.unwrap();
    assert_eq!(first_page.aliases().len(), 1);
    let second_page = client.list_aliases().limit(1).next_token(first_page.next_token().unwrap()).send().await;
    let second_page = second_page.unwrap();
    assert_eq!(second_page.aliases().len(), 1);
    assert_ne!(first_page.aliases()[0].alias_id(), second_page.aliases()[0].alias_id());

    server.clock().advance(Duration::from_secs(60));
    let updated_at = now(&server);
    let updated = client.update_alias().alias_id(&alias_id).name("live-v2").send().await.unwrap();
    let updated = updated.alias().unwrap();
    assert_eq!(updated.name(), Some("live-v2"));
    assert_eq!(updated.creation_time(), Some(&datetime(created_at)));
    assert_eq!(updated.last_updated_time(), Some(&datetime(updated_at)));
    let missing_fleet =
        RoutingStrategy::builder().r#type(RoutingStrategyType::Simple).fleet_id("fleet-missing").build();
    let err =
        service_error!(client.update_alias().alias_id(&alias_id).routing_strategy(missing_fleet.clone()).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    let err = service_error!(client.create_alias().name("dangling").routing_strategy(missing_fleet).send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");

    client.delete_alias().alias_id(&alias_id).send().await.unwrap();
    let err = service_error!(client.describe_alias().alias_id(&alias_id).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Alias {alias_id} not found.").as_str()));
    let err = service_error!(client.resolve_alias().alias_id(&alias_id).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    let err = service_error!(client.delete_alias().alias_id(&alias_id).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    server.stop().await;
}

fn tag(key: &str, value: &str) -> Tag {
    Tag::builder().key(key).value(value).build()
}

#[tokio::test]
async fn tags_are_added_listed_and_removed_and_aws_prefix_is_refused() {
    let (server, client) = server().await;
    let fleet_id = create_fleet(&client, "tagged", &["custom-a"]).await;
    let fleet_arn = format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/{fleet_id}");
    let location_arn = format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:location/custom-a");

    client
        .tag_resource()
        .resource_arn(&fleet_arn)
        .tags(tag("team", "core"))
        .tags(tag("env", "dev"))
        .send()
        .await
        .unwrap();
    client.tag_resource().resource_arn(&fleet_arn).tags(tag("env", "prod")).send().await.unwrap();
    let listed = client.list_tags_for_resource().resource_arn(&fleet_arn).send().await.unwrap();
    let tags: BTreeSet<_> = listed.tags().iter().map(|t| (t.key().unwrap(), t.value().unwrap())).collect();
    assert_eq!(tags, [("env", "prod"), ("team", "core")].into());

    client.untag_resource().resource_arn(&fleet_arn).tag_keys("team").tag_keys("absent").send().await.unwrap();
    let listed = client.list_tags_for_resource().resource_arn(&fleet_arn).send().await.unwrap();
    assert_eq!(listed.tags(), [tag("env", "prod")]);

    client.tag_resource().resource_arn(&location_arn).tags(tag("site", "lab")).send().await.unwrap();
    let listed = client.list_tags_for_resource().resource_arn(&location_arn).send().await.unwrap();
    assert_eq!(listed.tags(), [tag("site", "lab")]);

    let err = service_error!(client.tag_resource().resource_arn(&fleet_arn).tags(tag("aws:owner", "me")).send().await);
    assert!(err.is_tagging_failed_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Tag key aws:owner uses the reserved prefix aws:."));
    let err = service_error!(
        client
            .create_alias()
            .name("tagged")
            .routing_strategy(RoutingStrategy::builder().r#type(RoutingStrategyType::Terminal).message("x").build())
            .tags(tag("AWS:x", "y"))
            .send()
            .await,
    );
    assert!(err.is_tagging_failed_exception(), "{err:?}");

    let unknown = format!("arn:aws:gamelift:{REGION}:{ACCOUNT_ID}:fleet/fleet-missing");
    let err = service_error!(client.list_tags_for_resource().resource_arn(&unknown).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    assert_eq!(err.message(), Some(format!("Resource {unknown} not found.").as_str()));

    client.delete_fleet().fleet_id(&fleet_id).send().await.unwrap();
    let err = service_error!(client.list_tags_for_resource().resource_arn(&fleet_arn).send().await);
    assert!(err.is_not_found_exception(), "{err:?}");
    server.stop().await;
}

#[tokio::test]
async fn unsupported_operations_answer_invalid_request_naming_the_operation() {
    let (server, client) = server().await;
    let err = service_error!(client.create_build().name("b").send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Operation CreateBuild is not supported by openlift yet."));

    let err = service_error!(client.describe_game_session_queues().send().await);
    assert!(err.is_invalid_request_exception(), "{err:?}");
    assert_eq!(err.message(), Some("Operation DescribeGameSessionQueues is not supported by openlift yet."));
    server.stop().await;
}

#[tokio::test]
async fn sdk_signed_with_a_wrong_secret_gets_invalid_signature_exception() {
    let (server, _) = server().await;
    let client = server.sdk_with_credentials(common::ACCESS_KEY_ID, "not-the-secret");
    let err = service_error!(client.list_fleets().send().await);
    assert_eq!(err.code(), Some("InvalidSignatureException"));
    assert!(err.message().unwrap().starts_with("The request signature we calculated does not match"), "{err:?}");

    let client = server.sdk_with_credentials("AKIDUNKNOWN", "whatever");
    let err = service_error!(client.list_fleets().send().await);
    assert_eq!(err.code(), Some("UnrecognizedClientException"));
    server.stop().await;
}

#[tokio::test]
async fn locations_freed_by_deleting_fleets_or_fleet_locations_can_be_reused() {
    let (server, client) = server().await;
    let kept = create_fleet(&client, "kept", &["custom-a", "custom-b"]).await;
    let gone = create_fleet(&client, "gone", &["custom-c"]).await;
    register(&client, &kept, "box-b", "custom-b").await;

    client.delete_fleet().fleet_id(&gone).send().await.unwrap();
    client.delete_location().location_name("custom-c").send().await.expect("no live fleet uses custom-c");

    client.delete_fleet_locations().fleet_id(&kept).locations("custom-b").send().await.unwrap();
    let err = service_error!(client.get_compute_auth_token().fleet_id(&kept).compute_name("box-b").send().await);
    assert!(err.is_not_found_exception(), "a compute in a removed location keeps getting tokens: {err:?}");
    let again = LocationConfiguration::builder().location("custom-b").build();
    client.create_fleet_locations().fleet_id(&kept).locations(again).send().await.expect("re-adding custom-b");
    register(&client, &kept, "box-b", "custom-b").await;
    server.stop().await;
}
