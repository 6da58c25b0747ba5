//! Fleet operations for Anywhere fleets: CreateFleet, DescribeFleetAttributes, ListFleets,
//! UpdateFleetAttributes, DeleteFleet, DescribeFleetEvents and the runtime configuration
//! (`control-plane-api.md` sections 7.2 to 7.4 and 7.8).

use openlift_core::records::Fleet;
use openlift_core::{fleet, ids, tags};
use openlift_model::{
    ApiError, CreateFleetInput, CreateFleetOutput, DeleteFleetInput, DescribeFleetAttributesInput,
    DescribeFleetAttributesOutput, DescribeFleetEventsInput, DescribeFleetEventsOutput,
    DescribeRuntimeConfigurationInput, DescribeRuntimeConfigurationOutput, EventCode, ListFleetsInput,
    ListFleetsOutput, UpdateFleetAttributesInput, UpdateFleetAttributesOutput, UpdateRuntimeConfigurationInput,
    UpdateRuntimeConfigurationOutput,
};
use openlift_store::{EventFilter, StoreError};

use crate::api::selected_fleets;
use crate::app::App;
use crate::service::common::{MAX_PAGE, internal};
use crate::service::fleets;

/// Creates an Anywhere fleet, ACTIVE at once, in the home Region and its custom locations.
pub async fn create(app: &App, input: CreateFleetInput) -> Result<CreateFleetOutput, ApiError> {
    fleet::check_supported(&input)?;
    let tags = tags::merge(&[], input.tags.as_deref().unwrap_or_default())?;
    let locations = fleet::requested_custom_locations(&input)?;
    for name in &locations {
        if app.store.get_location(name).await.map_err(internal)?.is_none() {
            return Err(ApiError::not_found(format!(
                "Location {name} not found; create it with CreateLocation first."
            )));
        }
    }
    let fleet_id = ids::new_fleet_id();
    let (fleet, events) = fleet::new_anywhere_fleet(input, fleet_id.clone(), locations, &app.scope, app.now())?;
    match app.store.create_fleet(&fleet, &events, &tags).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(ApiError::conflict(format!("Fleet {fleet_id} already exists."))),
        Err(e) => return Err(internal(e)),
    }
    tracing::info!(fleet_id = %fleet_id, "fleet created");
    Ok(CreateFleetOutput { fleet_attributes: Some(fleet.attributes), location_states: Some(fleet.locations) })
}

/// Attributes of the named fleets (in the order asked, unknown IDs left out), or a page of all fleets.
pub async fn describe_attributes(
    app: &App,
    input: DescribeFleetAttributesInput,
) -> Result<DescribeFleetAttributesOutput, ApiError> {
    let (fleets, next_token) =
        selected_fleets(app, "DescribeFleetAttributes", input.fleet_ids, input.limit, input.next_token.as_deref())
            .await?;
    Ok(DescribeFleetAttributesOutput {
        fleet_attributes: Some(fleets.into_iter().map(|f| f.attributes).collect()),
        next_token,
    })
}

/// IDs of fleets; Anywhere fleets have no build or script, so those filters match none.
pub async fn list(app: &App, input: ListFleetsInput) -> Result<ListFleetsOutput, ApiError> {
    if input.build_id.is_some() || input.script_id.is_some() {
        return Ok(ListFleetsOutput { fleet_ids: Some(Vec::new()), next_token: None });
    }
    let scope = "ListFleets";
    let page = app.paging.request(scope, input.limit, input.next_token.as_deref(), MAX_PAGE)?;
    let fleets = app.store.list_fleets(false, page).await.map_err(internal)?;
    let next_token = app.paging.next_token(scope, &fleets);
    Ok(ListFleetsOutput { fleet_ids: Some(fleets.items.iter().map(|f| f.id().to_owned()).collect()), next_token })
}

/// Changes name, description, protection policy, creation limit policy, metric groups
/// or the Anywhere cost; a new protection policy is recorded with its own event.
pub async fn update_attributes(
    app: &App,
    input: UpdateFleetAttributesInput,
) -> Result<UpdateFleetAttributesOutput, ApiError> {
    let now = app.now();
    let fleet = app
        .services
        .fleets
        .update(&input.fleet_id, |fleet: &mut Fleet| {
            let a = &mut fleet.attributes;
            let id = a.fleet_id.clone().unwrap_or_default();
            let mut events = Vec::new();
            if let Some(policy) = input.new_game_session_protection_policy
                && a.new_game_session_protection_policy != Some(policy)
            {
                a.new_game_session_protection_policy = Some(policy);
                let message = format!("Fleet {id} new game session protection policy changed to {policy}.");
                events.push(fleet::event(&id, EventCode::FleetNewGameSessionProtectionPolicyUpdated, message, now));
            }
            let mut changed = Vec::new();
            if let Some(name) = &input.name {
                a.name = Some(name.clone());
                changed.push("Name");
            }
            if let Some(description) = &input.description {
                a.description = Some(description.clone());
                changed.push("Description");
            }
            if let Some(policy) = &input.resource_creation_limit_policy {
                a.resource_creation_limit_policy = Some(policy.clone());
                changed.push("ResourceCreationLimitPolicy");
            }
            if let Some(groups) = &input.metric_groups {
                a.metric_groups = Some(groups.clone());
                changed.push("MetricGroups");
            }
            if let Some(anywhere) = &input.anywhere_configuration {
                a.anywhere_configuration = Some(anywhere.clone());
                changed.push("AnywhereConfiguration");
            }
            if !changed.is_empty() {
                let message = format!("Fleet {id} attributes updated: {}.", changed.join(", "));
                events.push(fleet::event(&id, EventCode::GenericEvent, message, now));
            }
            Ok(events)
        })
        .await?;
    Ok(UpdateFleetAttributesOutput { fleet_id: Some(fleet.id().to_owned()), fleet_arn: fleet.attributes.fleet_arn })
}

/// Deletes a fleet: TERMINATED at once, its computes deregistered as DeregisterCompute does
/// (their processes end) and its tags removed; the record stays so its events can still be read.
pub async fn delete(app: &App, input: DeleteFleetInput) -> Result<(), ApiError> {
    let now = app.now();
    let fleet = app.services.fleets.update(&input.fleet_id, |fleet: &mut Fleet| Ok(fleet::delete(fleet, now))).await?;
    app.services.computes.deregister_all(fleet.id(), None).await?;
    app.store.delete_tags(&app.scope.fleet_arn(fleet.id())).await.map_err(internal)?;
    tracing::info!(fleet_id = %fleet.id(), "fleet deleted");
    Ok(())
}

/// Replaces the runtime configuration (allowed in any status), recording a generic event.
pub async fn update_runtime_configuration(
    app: &App,
    input: UpdateRuntimeConfigurationInput,
) -> Result<UpdateRuntimeConfigurationOutput, ApiError> {
    let rc = fleet::runtime_configuration(input.runtime_configuration)?;
    let now = app.now();
    let fleet = app
        .services
        .fleets
        .update(&input.fleet_id, |fleet: &mut Fleet| {
            fleet.runtime_configuration = Some(rc.clone());
            let id = fleet.id().to_owned();
            Ok(vec![fleet::event(
                &id,
                EventCode::GenericEvent,
                format!("Fleet {id} runtime configuration updated."),
                now,
            )])
        })
        .await?;
    Ok(UpdateRuntimeConfigurationOutput { runtime_configuration: fleet.runtime_configuration })
}

/// The runtime configuration; a deleted fleet answers an empty result.
pub async fn describe_runtime_configuration(
    app: &App,
    input: DescribeRuntimeConfigurationInput,
) -> Result<DescribeRuntimeConfigurationOutput, ApiError> {
    let id = ids::id_from_id_or_arn(&input.fleet_id);
    let fleet = app.store.get_fleet(id).await.map_err(internal)?;
    let fleet = fleet.ok_or_else(|| fleets::not_found(id))?.value;
    if fleet::is_deleted(&fleet) {
        return Ok(DescribeRuntimeConfigurationOutput { runtime_configuration: None });
    }
    Ok(DescribeRuntimeConfigurationOutput { runtime_configuration: fleet.runtime_configuration })
}

/// A fleet's events, newest first, optionally within a time window; deleted fleets included.
pub async fn describe_events(
    app: &App,
    input: DescribeFleetEventsInput,
) -> Result<DescribeFleetEventsOutput, ApiError> {
    let id = ids::id_from_id_or_arn(&input.fleet_id).to_owned();
    if app.store.get_fleet(&id).await.map_err(internal)?.is_none() {
        return Err(fleets::not_found(&id));
    }
    let filter = EventFilter { start: input.start_time, end: input.end_time };
    let bound = |t: Option<openlift_model::Timestamp>| t.map_or(String::new(), |t| t.as_millis().to_string());
    let scope = format!("DescribeFleetEvents|{id}|{}|{}", bound(filter.start), bound(filter.end));
    let page = app.paging.request(&scope, input.limit, input.next_token.as_deref(), MAX_PAGE)?;
    let events = app.store.list_fleet_events(&id, &filter, page).await.map_err(internal)?;
    let next_token = app.paging.next_token(&scope, &events);
    Ok(DescribeFleetEventsOutput { events: Some(events.items.into_iter().map(|e| e.event).collect()), next_token })
}
