//! CreateFleetLocations, DeleteFleetLocations, DescribeFleetLocationAttributes for
//! Anywhere fleets (`control-plane-api.md` sections 7.2, 7.4 and 7.5).
//!
//! An Anywhere location needs no instances, so an added location is ACTIVE at once
//! (AWS reports `NEW` for EC2 fleets) and a removed one is gone at once, its computes
//! deregistered as DeregisterCompute does (their processes end).

use crate::app::App;
use crate::service::common::internal;
use openlift_core::fleet;
use openlift_core::records::Fleet;
use openlift_model::{
    ApiError, CreateFleetLocationsInput, CreateFleetLocationsOutput, DeleteFleetLocationsInput,
    DeleteFleetLocationsOutput, DescribeFleetLocationAttributesInput, DescribeFleetLocationAttributesOutput, EventCode,
    FleetStatus, LocationAttributes, LocationState,
};

/// Adds custom locations to a fleet.
pub async fn create(app: &App, input: CreateFleetLocationsInput) -> Result<CreateFleetLocationsOutput, ApiError> {
    let names: Vec<String> = input.locations.iter().map(|l| l.location.clone()).collect();
    fleet::check_custom_locations(&names)?;
    for name in &names {
        if app.store.get_location(name).await.map_err(internal)?.is_none() {
            return Err(ApiError::not_found(format!(
                "Location {name} not found; create it with CreateLocation first."
            )));
        }
    }
    let now = app.now();
    let fleet = app
        .services
        .fleets
        .update(&input.fleet_id, |fleet: &mut Fleet| {
            let id = fleet.id().to_owned();
            let mut events = Vec::new();
            for name in &names {
                if fleet::has_location(fleet, name) {
                    return Err(ApiError::invalid_request(format!("Fleet {id} already has location {name}.")));
                }
                fleet.locations.push(fleet::active_location(name));
                events.push(fleet::event(
                    &id,
                    EventCode::LocationStateCreated,
                    format!("Location {name} created."),
                    now,
                ));
                events.push(fleet::event(
                    &id,
                    EventCode::LocationStateActive,
                    format!("Location {name} is ACTIVE."),
                    now,
                ));
            }
            Ok(events)
        })
        .await?;
    let added = fleet.locations.iter().filter(|l| l.location.as_ref().is_some_and(|n| names.contains(n))).cloned();
    Ok(CreateFleetLocationsOutput {
        fleet_id: Some(fleet.id().to_owned()),
        fleet_arn: fleet.attributes.fleet_arn.clone(),
        location_states: Some(added.collect()),
    })
}

/// Removes remote locations from a fleet, deregistering the computes there; the home
/// Region cannot be removed.
pub async fn delete(app: &App, input: DeleteFleetLocationsInput) -> Result<DeleteFleetLocationsOutput, ApiError> {
    let now = app.now();
    let fleet = app
        .services
        .fleets
        .update(&input.fleet_id, |fleet: &mut Fleet| {
            let id = fleet.id().to_owned();
            let home = fleet::home_region(fleet).unwrap_or_default().to_owned();
            let mut events = Vec::new();
            for name in &input.locations {
                if *name == home {
                    return Err(ApiError::invalid_request(format!(
                        "Location {name} is the home Region of fleet {id} and cannot be removed."
                    )));
                }
                if !fleet::has_location(fleet, name) {
                    return Err(ApiError::invalid_request(format!("Fleet {id} has no location {name}.")));
                }
                fleet.locations.retain(|l| l.location.as_deref() != Some(name));
                events.push(fleet::event(
                    &id,
                    EventCode::LocationStateDeleting,
                    format!("Location {name} deleting."),
                    now,
                ));
                events.push(fleet::event(
                    &id,
                    EventCode::LocationStateDeleted,
                    format!("Location {name} deleted."),
                    now,
                ));
            }
            Ok(events)
        })
        .await?;
    for name in &input.locations {
        app.services.computes.deregister_all(fleet.id(), Some(name)).await?;
    }
    let states = input
        .locations
        .iter()
        .map(|name| LocationState {
            location: Some(name.clone()),
            status: Some(FleetStatus::Deleting),
            ..Default::default()
        })
        .collect();
    Ok(DeleteFleetLocationsOutput {
        fleet_id: Some(fleet.id().to_owned()),
        fleet_arn: fleet.attributes.fleet_arn.clone(),
        location_states: Some(states),
    })
}

/// The fleet's locations with their status: those asked for, in that order, or all of them.
pub async fn describe(
    app: &App,
    input: DescribeFleetLocationAttributesInput,
) -> Result<DescribeFleetLocationAttributesOutput, ApiError> {
    let fleet = app.services.fleets.load(&input.fleet_id).await?.value;
    let attributes =
        |state: &LocationState| LocationAttributes { location_state: Some(state.clone()), ..Default::default() };
    let listed: Vec<LocationAttributes> = match &input.locations {
        Some(names) => names
            .iter()
            .filter_map(|n| fleet.locations.iter().find(|l| l.location.as_deref() == Some(n)))
            .map(attributes)
            .collect(),
        None => fleet.locations.iter().map(attributes).collect(),
    };
    Ok(DescribeFleetLocationAttributesOutput {
        fleet_id: Some(fleet.id().to_owned()),
        fleet_arn: fleet.attributes.fleet_arn.clone(),
        location_attributes: Some(listed),
        next_token: None,
    })
}
