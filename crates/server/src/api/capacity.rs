//! DescribeFleetCapacity, DescribeFleetUtilization, DescribeFleetLocationCapacity and
//! DescribeFleetLocationUtilization for Anywhere fleets (`control-plane-api.md` section 7.4).
//!
//! Choices, where AWS's rules were written for EC2 fleets:
//! * An Anywhere fleet's capacity lives only in its custom locations, so the fleet-wide
//!   operations report the whole fleet (every location added up) rather than the home
//!   Region alone, which would always be empty; `Location` is the home Region as AWS
//!   reports. The per-location operations report one location; the home Region is valid
//!   there and reports zeros; a location the fleet does not have is an
//!   `InvalidRequestException`.
//! * Instance counts are registered computes: `DESIRED` = `ACTIVE` = `MAXIMUM` = computes,
//!   `MINIMUM`, `PENDING` and `TERMINATING` = 0, `IDLE` = computes hosting no game session.
//!   No `InstanceType` (an Anywhere compute has none).
//! * Utilization counts server processes that are `Active` in the SDK endpoint's registry
//!   (connected or briefly reconnecting, not terminating) and the game sessions they host.
//!   Player session counts are always 0: utilization does not count player sessions.
//! * `FleetIds` works as in DescribeFleetAttributes: at most 100, unknown or deleted fleets
//!   left out, `Limit`/`NextToken` ignored; without it, a page of all live fleets.

use openlift_core::fleet;
use openlift_core::records::Fleet;
use openlift_model::{
    ApiError, DescribeFleetCapacityInput, DescribeFleetCapacityOutput, DescribeFleetLocationCapacityInput,
    DescribeFleetLocationCapacityOutput, DescribeFleetLocationUtilizationInput, DescribeFleetLocationUtilizationOutput,
    DescribeFleetUtilizationInput, DescribeFleetUtilizationOutput, EC2InstanceCounts, FleetCapacity, FleetUtilization,
};
use openlift_store::PageRequest;

use crate::api::selected_fleets;
use crate::app::App;
use crate::service::common::{MAX_PAGE, internal};

fn count(n: usize) -> Option<i32> {
    Some(i32::try_from(n).unwrap_or(i32::MAX))
}

/// The fleet and location a per-location call names.
async fn fleet_location(app: &App, fleet_id: &str, location: &str) -> Result<Fleet, ApiError> {
    let fleet = app.services.fleets.load(fleet_id).await?.value;
    if !fleet::has_location(&fleet, location) {
        return Err(ApiError::invalid_request(format!("Fleet {} has no location {location}.", fleet.id())));
    }
    Ok(fleet)
}

async fn registered_computes(app: &App, fleet_id: &str, location: Option<&str>) -> Result<usize, ApiError> {
    let mut total = 0;
    let mut after = None;
    loop {
        let page = app.store.list_computes(fleet_id, location, PageRequest { after, limit: MAX_PAGE }).await;
        let page = page.map_err(internal)?;
        total += page.items.len();
        match page.next {
            Some(next) => after = Some(next),
            None => return Ok(total),
        }
    }
}

fn reported_location(app: &App, fleet: &Fleet, location: Option<&str>) -> Option<String> {
    Some(location.or_else(|| fleet::home_region(fleet)).unwrap_or(&app.scope.region).to_owned())
}

async fn capacity(app: &App, fleet: &Fleet, location: Option<&str>) -> Result<FleetCapacity, ApiError> {
    let computes = registered_computes(app, fleet.id(), location).await?;
    let busy = app.services.hosting.usage(fleet.id(), location).await.busy_computes.len().min(computes);
    Ok(FleetCapacity {
        fleet_id: Some(fleet.id().to_owned()),
        fleet_arn: fleet.attributes.fleet_arn.clone(),
        instance_counts: Some(EC2InstanceCounts {
            desired: count(computes),
            minimum: count(0),
            maximum: count(computes),
            pending: count(0),
            active: count(computes),
            idle: count(computes - busy),
            terminating: count(0),
        }),
        location: reported_location(app, fleet, location),
        ..Default::default()
    })
}

async fn utilization(app: &App, fleet: &Fleet, location: Option<&str>) -> FleetUtilization {
    let usage = app.services.hosting.usage(fleet.id(), location).await;
    FleetUtilization {
        fleet_id: Some(fleet.id().to_owned()),
        fleet_arn: fleet.attributes.fleet_arn.clone(),
        active_server_process_count: count(usage.active_server_processes),
        active_game_session_count: count(usage.game_sessions),
        current_player_session_count: count(0),
        maximum_player_session_count: count(0),
        location: reported_location(app, fleet, location),
    }
}

/// Instance counts of the named fleets, or of a page of all fleets.
pub async fn describe_capacity(
    app: &App,
    input: DescribeFleetCapacityInput,
) -> Result<DescribeFleetCapacityOutput, ApiError> {
    let (fleets, next_token) =
        selected_fleets(app, "DescribeFleetCapacity", input.fleet_ids, input.limit, input.next_token.as_deref())
            .await?;
    let mut capacities = Vec::with_capacity(fleets.len());
    for fleet in &fleets {
        capacities.push(capacity(app, fleet, None).await?);
    }
    Ok(DescribeFleetCapacityOutput { fleet_capacity: Some(capacities), next_token })
}

/// Process and game session counts of the named fleets, or of a page of all fleets.
pub async fn describe_utilization(
    app: &App,
    input: DescribeFleetUtilizationInput,
) -> Result<DescribeFleetUtilizationOutput, ApiError> {
    let (fleets, next_token) =
        selected_fleets(app, "DescribeFleetUtilization", input.fleet_ids, input.limit, input.next_token.as_deref())
            .await?;
    let mut reports = Vec::with_capacity(fleets.len());
    for fleet in &fleets {
        reports.push(utilization(app, fleet, None).await);
    }
    Ok(DescribeFleetUtilizationOutput { fleet_utilization: Some(reports), next_token })
}

/// Instance counts of one fleet location.
pub async fn describe_location_capacity(
    app: &App,
    input: DescribeFleetLocationCapacityInput,
) -> Result<DescribeFleetLocationCapacityOutput, ApiError> {
    let fleet = fleet_location(app, &input.fleet_id, &input.location).await?;
    let capacity = capacity(app, &fleet, Some(&input.location)).await?;
    Ok(DescribeFleetLocationCapacityOutput { fleet_capacity: Some(capacity) })
}

/// Process and game session counts of one fleet location.
pub async fn describe_location_utilization(
    app: &App,
    input: DescribeFleetLocationUtilizationInput,
) -> Result<DescribeFleetLocationUtilizationOutput, ApiError> {
    let fleet = fleet_location(app, &input.fleet_id, &input.location).await?;
    Ok(DescribeFleetLocationUtilizationOutput {
        fleet_utilization: Some(utilization(app, &fleet, Some(&input.location)).await),
    })
}
