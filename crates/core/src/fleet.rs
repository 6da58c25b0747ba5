//! Fleet rules: creating Anywhere fleets, their life cycle and event log, and
//! runtime configurations (`control-plane-api.md` sections 7.2 to 7.5 and 7.8).

use openlift_model::{
    AnywhereConfiguration, ApiError, CertificateConfiguration, CertificateType, ComputeType, CreateFleetInput, Event,
    EventCode, FleetAttributes, FleetStatus, LocationState, PlayerGatewayMode, ProtectionPolicy, RuntimeConfiguration,
    Timestamp,
};

use crate::ids::{ArnScope, new_event_id};
use crate::records::{Fleet, FleetEvent};

/// Most server processes a runtime configuration may run on one compute.
pub const MAX_PROCESSES_PER_COMPUTE: i64 = 50;
/// `MaxConcurrentGameSessionActivations` when not given: no limit.
pub const DEFAULT_MAX_CONCURRENT_ACTIVATIONS: i32 = i32::MAX;
/// `GameSessionActivationTimeoutSeconds` when not given.
pub const DEFAULT_ACTIVATION_TIMEOUT_SECONDS: i32 = 600;

/// One entry for a fleet's event log.
pub fn event(fleet_id: &str, code: EventCode, message: impl Into<String>, now: Timestamp) -> FleetEvent {
    FleetEvent {
        fleet_id: fleet_id.to_owned(),
        event: Event {
            event_id: Some(new_event_id()),
            resource_id: Some(fleet_id.to_owned()),
            event_code: Some(code),
            message: Some(message.into()),
            event_time: Some(now),
            ..Default::default()
        },
    }
}

/// Checks a runtime configuration beyond the model's constraints and fills in the
/// documented defaults, so what is stored is what governs placement.
pub fn runtime_configuration(mut rc: RuntimeConfiguration) -> Result<RuntimeConfiguration, ApiError> {
    let total: i64 = rc.server_processes.iter().flatten().map(|p| i64::from(p.concurrent_executions)).sum();
    if total > MAX_PROCESSES_PER_COMPUTE {
        return Err(ApiError::invalid_request(format!(
            "RuntimeConfiguration.ServerProcesses asks for {total} concurrent executions; at most {MAX_PROCESSES_PER_COMPUTE} server processes may run on one compute."
        )));
    }
    rc.max_concurrent_game_session_activations.get_or_insert(DEFAULT_MAX_CONCURRENT_ACTIVATIONS);
    rc.game_session_activation_timeout_seconds.get_or_insert(DEFAULT_ACTIVATION_TIMEOUT_SECONDS);
    Ok(rc)
}

/// Parameters that only managed EC2 fleets take, refused on an Anywhere fleet.
fn ec2_only_parameters(input: &CreateFleetInput) -> Vec<&'static str> {
    [
        ("BuildId", input.build_id.is_some()),
        ("ScriptId", input.script_id.is_some()),
        ("EC2InstanceType", input.ec2_instance_type.is_some()),
        ("EC2InboundPermissions", input.ec2_inbound_permissions.is_some()),
        ("FleetType", input.fleet_type.is_some()),
        ("PeerVpcAwsAccountId", input.peer_vpc_aws_account_id.is_some()),
        ("PeerVpcId", input.peer_vpc_id.is_some()),
    ]
    .into_iter()
    .filter_map(|(name, given)| given.then_some(name))
    .collect()
}

/// The custom locations an Anywhere fleet asks for, checked for shape and duplicates
/// (whether they exist is the caller's to check against the store).
pub fn requested_custom_locations(input: &CreateFleetInput) -> Result<Vec<String>, ApiError> {
    let names: Vec<String> = input.locations.iter().flatten().map(|l| l.location.clone()).collect();
    if names.is_empty() {
        return Err(ApiError::invalid_request("An Anywhere fleet needs at least one custom location in Locations."));
    }
    check_custom_locations(&names)?;
    Ok(names)
}

/// Checks that every name is a custom location and none is listed twice.
pub fn check_custom_locations(names: &[String]) -> Result<(), ApiError> {
    for (i, name) in names.iter().enumerate() {
        if !name.starts_with("custom-") {
            return Err(ApiError::invalid_request(format!(
                "Location {name} is not a custom location; Anywhere fleets run only in custom locations."
            )));
        }
        if names[..i].contains(name) {
            return Err(ApiError::invalid_request(format!("Location {name} is listed more than once.")));
        }
    }
    Ok(())
}

/// Refuses what openlift cannot create yet: any compute type but ANYWHERE (EC2 is the
/// default), and EC2-only parameters on an Anywhere fleet. Checked before anything else,
/// so an EC2 request hears about its compute type first.
pub fn check_supported(input: &CreateFleetInput) -> Result<(), ApiError> {
    match input.compute_type.unwrap_or(ComputeType::Ec2) {
        ComputeType::Anywhere => {}
        other => {
            return Err(ApiError::invalid_request(format!(
                "ComputeType {other} is not supported by openlift yet; create fleets with ComputeType ANYWHERE."
            )));
        }
    }
    let refused = ec2_only_parameters(input);
    if !refused.is_empty() {
        return Err(ApiError::invalid_request(format!(
            "Anywhere fleets do not take {}: these parameters apply to managed EC2 fleets only.",
            refused.join(", ")
        )));
    }
    Ok(())
}

/// A new Anywhere fleet, ACTIVE at once as GameLift creates them, with its first events.
///
/// `locations` must already be checked to exist. Any other compute type is refused
/// until openlift supports it.
pub fn new_anywhere_fleet(
    input: CreateFleetInput,
    fleet_id: String,
    locations: Vec<String>,
    scope: &ArnScope,
    now: Timestamp,
) -> Result<(Fleet, Vec<FleetEvent>), ApiError> {
    check_supported(&input)?;
    let runtime_configuration = input.runtime_configuration.map(runtime_configuration).transpose()?;
    let attributes = FleetAttributes {
        fleet_arn: Some(scope.fleet_arn(&fleet_id)),
        fleet_id: Some(fleet_id.clone()),
        name: Some(input.name),
        description: input.description,
        creation_time: Some(now),
        status: Some(FleetStatus::Active),
        server_launch_path: input.server_launch_path,
        server_launch_parameters: input.server_launch_parameters,
        log_paths: input.log_paths,
        new_game_session_protection_policy: Some(
            input.new_game_session_protection_policy.unwrap_or(ProtectionPolicy::NoProtection),
        ),
        resource_creation_limit_policy: input.resource_creation_limit_policy,
        metric_groups: Some(input.metric_groups.unwrap_or_else(|| vec!["default".to_owned()])),
        instance_role_arn: input.instance_role_arn,
        certificate_configuration: Some(
            input
                .certificate_configuration
                .unwrap_or(CertificateConfiguration { certificate_type: CertificateType::Disabled }),
        ),
        compute_type: Some(ComputeType::Anywhere),
        anywhere_configuration: Some(
            input.anywhere_configuration.unwrap_or(AnywhereConfiguration { cost: "0".to_owned() }),
        ),
        instance_role_credentials_provider: input.instance_role_credentials_provider,
        player_gateway_mode: Some(input.player_gateway_mode.unwrap_or(PlayerGatewayMode::Disabled)),
        player_gateway_configuration: input.player_gateway_configuration,
        ..Default::default()
    };
    let home = std::iter::once(scope.region.clone());
    let locations = home.chain(locations).map(|name| active_location(&name)).collect();
    let fleet = Fleet { attributes, locations, runtime_configuration };
    let events = vec![
        event(&fleet_id, EventCode::FleetCreated, format!("Fleet {fleet_id} created."), now),
        event(&fleet_id, EventCode::FleetStateActive, format!("Fleet {fleet_id} changed status to ACTIVE."), now),
    ];
    Ok((fleet, events))
}

/// A location state that is ACTIVE, as an Anywhere fleet's locations are once added.
pub fn active_location(name: &str) -> LocationState {
    LocationState { location: Some(name.to_owned()), status: Some(FleetStatus::Active), ..Default::default() }
}

/// Whether the fleet has been deleted; deleted fleets are kept only for their event log.
pub fn is_deleted(fleet: &Fleet) -> bool {
    matches!(fleet.attributes.status, Some(FleetStatus::Terminated | FleetStatus::Deleting))
}

/// Marks a fleet deleted (DELETING, then TERMINATED at once: an Anywhere fleet has no
/// instances to drain) and returns the events to record.
pub fn delete(fleet: &mut Fleet, now: Timestamp) -> Vec<FleetEvent> {
    fleet.attributes.status = Some(FleetStatus::Terminated);
    fleet.attributes.termination_time = Some(now);
    for location in &mut fleet.locations {
        location.status = Some(FleetStatus::Terminated);
    }
    let id = fleet.id().to_owned();
    vec![event(&id, EventCode::FleetDeleted, format!("Fleet {id} deleted."), now)]
}

/// Whether `location` is one of the fleet's locations (the home Region included).
pub fn has_location(fleet: &Fleet, location: &str) -> bool {
    fleet.locations.iter().any(|l| l.location.as_deref() == Some(location))
}

/// The fleet's home Region: the first of its locations.
pub fn home_region(fleet: &Fleet) -> Option<&str> {
    fleet.locations.first().and_then(|l| l.location.as_deref())
}
