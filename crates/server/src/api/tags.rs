//! TagResource, UntagResource, ListTagsForResource.
//!
//! Tags hang off a resource's canonical ARN (the one openlift minted), so an
//! ARN given with another account ID still finds the same resource.

use openlift_core::arn::{self, TaggableKind};
use openlift_core::{fleet, tags};
use openlift_model::{
    ApiError, ListTagsForResourceRequest, ListTagsForResourceResponse, TagResourceRequest, TagResourceResponse,
    UntagResourceRequest, UntagResourceResponse,
};

use crate::app::App;
use crate::service::common::internal;

/// The canonical ARN of the existing resource `resource_arn` names, or `NotFoundException`.
async fn existing_resource(app: &App, resource_arn: &str) -> Result<String, ApiError> {
    let parsed = arn::parse(resource_arn)?;
    let not_found = || ApiError::not_found(format!("Resource {resource_arn} not found."));
    if parsed.region != app.scope.region {
        return Err(not_found());
    }
    let found = match parsed.kind {
        TaggableKind::Fleet => {
            let fleet = app.store.get_fleet(&parsed.id).await.map_err(internal)?;
            fleet.filter(|f| !fleet::is_deleted(&f.value)).map(|_| app.scope.fleet_arn(&parsed.id))
        }
        TaggableKind::Alias => {
            app.store.get_alias(&parsed.id).await.map_err(internal)?.map(|_| app.scope.alias_arn(&parsed.id))
        }
        TaggableKind::Location => app.store.get_location(&parsed.id).await.map_err(internal)?.map(|l| l.arn),
        TaggableKind::Unsupported => None,
    };
    found.ok_or_else(not_found)
}

/// Adds tags, overwriting values of keys already present.
pub async fn tag(app: &App, input: TagResourceRequest) -> Result<TagResourceResponse, ApiError> {
    let arn = existing_resource(app, &input.resource_arn).await?;
    let _guard = app.locks.lock(&format!("tags|{arn}")).await;
    let existing = app.store.list_tags(&arn).await.map_err(internal)?;
    tags::merge(&existing, &input.tags)?;
    app.store.tag_resource(&arn, &input.tags).await.map_err(internal)?;
    Ok(TagResourceResponse {})
}

/// Removes tags by key; keys the resource does not have are ignored.
pub async fn untag(app: &App, input: UntagResourceRequest) -> Result<UntagResourceResponse, ApiError> {
    let arn = existing_resource(app, &input.resource_arn).await?;
    app.store.untag_resource(&arn, &input.tag_keys).await.map_err(internal)?;
    Ok(UntagResourceResponse {})
}

/// Lists a resource's tags.
pub async fn list(app: &App, input: ListTagsForResourceRequest) -> Result<ListTagsForResourceResponse, ApiError> {
    let arn = existing_resource(app, &input.resource_arn).await?;
    let tags = app.store.list_tags(&arn).await.map_err(internal)?;
    Ok(ListTagsForResourceResponse { tags: Some(tags) })
}
