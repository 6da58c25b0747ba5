//! RegisterCompute, DeregisterCompute, DescribeCompute, ListCompute and
//! GetComputeAuthToken for Anywhere fleets (`control-plane-api.md` section 7.6).
//!
//! A compute is `ACTIVE` from registration; it is `IMPAIRED` while the agent that
//! connected for it has stopped heartbeating ([`crate::agent`]). Every compute returned
//! carries both endpoints: `GameLiftServiceSdkEndpoint` for server processes and
//! `GameLiftAgentEndpoint` for the GameLift Agent or `openlift agent`.

use openlift_core::records::{AuthToken, ComputeRecord};
use openlift_core::{fleet, ids};
use openlift_model::{
    ApiError, Compute, ComputeStatus, ComputeType, DeregisterComputeInput, DeregisterComputeOutput,
    DescribeComputeInput, DescribeComputeOutput, GetComputeAuthTokenInput, GetComputeAuthTokenOutput, ListComputeInput,
    ListComputeInputStatus, ListComputeOutput, RegisterComputeInput, RegisterComputeOutput,
};
use openlift_store::StoreError;

use crate::app::App;
use crate::sdk::AUTH_TOKEN_LIFETIME;
use crate::service::common::{MAX_PAGE, internal};

/// Registers a compute in one of an Anywhere fleet's custom locations.
pub async fn register(app: &App, input: RegisterComputeInput) -> Result<RegisterComputeOutput, ApiError> {
    // RegisterCompute declares no NotFoundException: an unknown fleet is an invalid request.
    let fleet = app.services.fleets.load(&input.fleet_id).await?.value;
    let fleet_id = fleet.id().to_owned();
    if fleet.attributes.compute_type != Some(ComputeType::Anywhere) {
        return Err(ApiError::invalid_request(format!("Fleet {fleet_id} is not an Anywhere fleet.")));
    }
    let location = input.location.ok_or_else(|| {
        ApiError::invalid_request("Location is required: name the fleet's custom location the compute is in.")
    })?;
    if !location.starts_with("custom-") || !fleet::has_location(&fleet, &location) {
        return Err(ApiError::invalid_request(format!(
            "Location {location} is not a custom location of fleet {fleet_id}; add it with CreateFleetLocations."
        )));
    }
    let ip_address = input
        .ip_address
        .ok_or_else(|| ApiError::invalid_request("IpAddress is required for a compute of an Anywhere fleet."))?;
    let compute = Compute {
        fleet_id: Some(fleet_id.clone()),
        fleet_arn: fleet.attributes.fleet_arn.clone(),
        compute_arn: Some(app.scope.compute_arn(&input.compute_name)),
        compute_name: Some(input.compute_name.clone()),
        ip_address: Some(ip_address),
        dns_name: input.dns_name,
        compute_status: Some(ComputeStatus::Active),
        location: Some(location),
        creation_time: Some(app.now()),
        game_lift_service_sdk_endpoint: Some(app.sdk_endpoint.clone()),
        game_lift_agent_endpoint: Some(app.agent_endpoint.clone()),
        ..Default::default()
    };
    let record = ComputeRecord { compute, certificate_path: input.certificate_path, agent: false };
    match app.store.create_compute(&record).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => {
            return Err(ApiError::conflict(format!(
                "Compute {} is already registered with fleet {fleet_id}.",
                input.compute_name
            )));
        }
        Err(e) => return Err(internal(e)),
    }
    app.services.hosting.compute_registered(&fleet_id, &input.compute_name).await;
    tracing::info!(fleet_id = %fleet_id, compute = %input.compute_name, "compute registered");
    Ok(RegisterComputeOutput { compute: Some(record.compute) })
}

async fn existing_compute(app: &App, fleet_id_or_arn: &str, compute: &str) -> Result<ComputeRecord, ApiError> {
    let fleet = app.services.fleets.load(fleet_id_or_arn).await?.value;
    let name = ids::id_from_id_or_arn(compute);
    let record = app.store.get_compute(fleet.id(), name).await.map_err(internal)?;
    record.ok_or_else(|| ApiError::not_found(format!("Compute {name} not found in fleet {}.", fleet.id())))
}

/// A stored compute as the API shows it, with this server's endpoints.
fn shown(app: &App, mut compute: Compute) -> Compute {
    compute.game_lift_service_sdk_endpoint = Some(app.sdk_endpoint.clone());
    compute.game_lift_agent_endpoint = Some(app.agent_endpoint.clone());
    compute
}

/// Deregisters a compute; it can no longer host game sessions and its tokens stop working.
/// Its processes end ([`Computes::retire`](crate::service::computes::Computes::retire)) and its agent, if connected, shuts down.
pub async fn deregister(app: &App, input: DeregisterComputeInput) -> Result<DeregisterComputeOutput, ApiError> {
    let record = existing_compute(app, &input.fleet_id, &input.compute_name).await?;
    let fleet_id = record.compute.fleet_id.unwrap_or_default();
    let name = record.compute.compute_name.unwrap_or_default();
    match app.store.delete_compute(&fleet_id, &name).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => {
            return Err(ApiError::not_found(format!("Compute {name} not found in fleet {fleet_id}.")));
        }
        Err(e) => return Err(internal(e)),
    }
    tracing::info!(fleet_id = %fleet_id, compute = %name, "compute deregistered");
    app.services.computes.retire(&fleet_id, &name).await;
    Ok(DeregisterComputeOutput {})
}

/// One compute.
pub async fn describe(app: &App, input: DescribeComputeInput) -> Result<DescribeComputeOutput, ApiError> {
    let record = existing_compute(app, &input.fleet_id, &input.compute_name).await?;
    Ok(DescribeComputeOutput { compute: Some(shown(app, record.compute)) })
}

/// A fleet's computes, optionally in one location and status; container filters match
/// nothing on an Anywhere fleet. The status filter applies to each page, so a page may be
/// short (even empty) and still have a `NextToken`.
pub async fn list(app: &App, input: ListComputeInput) -> Result<ListComputeOutput, ApiError> {
    // ListCompute declares no NotFoundException: an unknown fleet is an invalid request.
    let fleet = app.services.fleets.load(&input.fleet_id).await?.value;
    if input.container_group_definition_name.is_some() {
        return Ok(ListComputeOutput { compute_list: Some(Vec::new()), next_token: None });
    }
    let wanted = input.compute_status.map(|status| match status {
        ListComputeInputStatus::Active => ComputeStatus::Active,
        ListComputeInputStatus::Impaired => ComputeStatus::Impaired,
    });
    let scope = format!("ListCompute|{}|{}", fleet.id(), input.location.as_deref().unwrap_or_default());
    let page = app.paging.request(&scope, input.limit, input.next_token.as_deref(), MAX_PAGE)?;
    let computes = app.store.list_computes(fleet.id(), input.location.as_deref(), page).await.map_err(internal)?;
    let next_token = app.paging.next_token(&scope, &computes);
    let list = computes
        .items
        .into_iter()
        .map(|c| shown(app, c.compute))
        .filter(|c| wanted.is_none_or(|status| c.compute_status == Some(status)))
        .collect();
    Ok(ListComputeOutput { compute_list: Some(list), next_token })
}

/// A new auth token for a registered compute, valid for [`AUTH_TOKEN_LIFETIME`]; only
/// its digest is stored.
pub async fn auth_token(app: &App, input: GetComputeAuthTokenInput) -> Result<GetComputeAuthTokenOutput, ApiError> {
    let record = existing_compute(app, &input.fleet_id, &input.compute_name).await?;
    let compute = record.compute;
    let token = ids::new_auth_token();
    let now = app.now();
    let expires_at = now.plus(AUTH_TOKEN_LIFETIME);
    let stored = AuthToken {
        digest: ids::auth_token_digest(&token),
        fleet_id: compute.fleet_id.clone().unwrap_or_default(),
        compute_name: compute.compute_name.clone().unwrap_or_default(),
        expires_at,
    };
    app.store.put_auth_token(&stored, now).await.map_err(internal)?;
    Ok(GetComputeAuthTokenOutput {
        fleet_id: compute.fleet_id,
        fleet_arn: compute.fleet_arn,
        compute_name: compute.compute_name,
        compute_arn: compute.compute_arn,
        auth_token: Some(token),
        expiration_timestamp: Some(expires_at),
    })
}
