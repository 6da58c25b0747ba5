//! CreateLocation, ListLocations, DeleteLocation (`control-plane-api.md` section 7.5).

use openlift_core::records::Location;
use openlift_core::{ids, tags};
use openlift_model::{
    ApiError, CreateLocationInput, CreateLocationOutput, DeleteLocationInput, DeleteLocationOutput, ListLocationsInput,
    ListLocationsOutput, LocationFilter, LocationModel,
};
use openlift_store::{PageRequest, StoreError};

use crate::app::App;
use crate::service::common::internal;

/// ListLocations pages hold at most this many locations (the model's `Limit` maximum).
const MAX_LOCATIONS_PAGE: usize = 200;

fn model(location: &Location) -> LocationModel {
    LocationModel {
        location_name: Some(location.name.clone()),
        location_arn: Some(location.arn.clone()),
        ..Default::default()
    }
}

/// Creates a custom location; a taken name is a `ConflictException`.
pub async fn create(app: &App, input: CreateLocationInput) -> Result<CreateLocationOutput, ApiError> {
    let tags = tags::merge(&[], input.tags.as_deref().unwrap_or_default())?;
    let location = Location {
        arn: app.scope.location_arn(&input.location_name),
        name: input.location_name,
        creation_time: app.now(),
    };
    match app.store.create_location(&location, &tags).await {
        Ok(()) => {
            tracing::info!(location = %location.name, "location created");
            Ok(CreateLocationOutput { location: Some(model(&location)) })
        }
        Err(StoreError::AlreadyExists) => {
            Err(ApiError::conflict(format!("Location {} already exists.", location.name)))
        }
        Err(e) => Err(internal(e)),
    }
}

/// Lists the home Region (filter `AWS`) and custom locations (filter `CUSTOM`).
///
/// The home Region comes first, under the cursor 0 that precedes every stored
/// custom location, so one token scheme pages through both.
pub async fn list(app: &App, input: ListLocationsInput) -> Result<ListLocationsOutput, ApiError> {
    let filters = input.filters.unwrap_or_default();
    let wants = |f: LocationFilter| filters.is_empty() || filters.contains(&f);
    let scope = format!("ListLocations|{}|{}", wants(LocationFilter::Aws), wants(LocationFilter::Custom));
    let page = app.paging.request(&scope, input.limit, input.next_token.as_deref(), MAX_LOCATIONS_PAGE)?;
    let mut locations = Vec::new();
    let mut remaining = page.limit;
    if wants(LocationFilter::Aws) && page.after.is_none() {
        locations.push(LocationModel { location_name: Some(app.scope.region.clone()), ..Default::default() });
        remaining -= 1;
    }
    let mut next_token = None;
    if wants(LocationFilter::Custom) {
        if remaining == 0 {
            next_token = Some(app.paging.tokens.issue(&scope, 0));
        } else {
            let custom = app
                .store
                .list_locations(PageRequest { after: page.after, limit: remaining })
                .await
                .map_err(internal)?;
            locations.extend(custom.items.iter().map(model));
            next_token = app.paging.next_token(&scope, &custom);
        }
    }
    Ok(ListLocationsOutput { locations: Some(locations), next_token })
}

/// Deletes a custom location that no fleet uses.
pub async fn delete(app: &App, input: DeleteLocationInput) -> Result<DeleteLocationOutput, ApiError> {
    let name = ids::id_from_id_or_arn(&input.location_name).to_owned();
    let location = app.store.get_location(&name).await.map_err(internal)?;
    let location = location.ok_or_else(|| ApiError::not_found(format!("Location {name} not found.")))?;
    let users = app.store.fleets_in_location(&name).await.map_err(internal)?;
    if !users.is_empty() {
        return Err(ApiError::invalid_request(format!(
            "Location {name} is in use by fleet(s) {}; remove it from them with DeleteFleetLocations first.",
            users.join(", ")
        )));
    }
    match app.store.delete_location(&name).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(e) => return Err(internal(e)),
    }
    app.store.delete_tags(&location.arn).await.map_err(internal)?;
    tracing::info!(location = %name, "location deleted");
    Ok(DeleteLocationOutput {})
}
