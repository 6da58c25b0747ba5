//! CreateAlias, DescribeAlias, ListAliases, UpdateAlias, DeleteAlias, ResolveAlias
//! (`control-plane-api.md` section 7.7).

use openlift_core::{alias, ids, tags};
use openlift_model::{
    Alias, ApiError, CreateAliasInput, CreateAliasOutput, DeleteAliasInput, DescribeAliasInput, DescribeAliasOutput,
    ListAliasesInput, ListAliasesOutput, ResolveAliasInput, ResolveAliasOutput, RoutingStrategy, UpdateAliasInput,
    UpdateAliasOutput,
};
use openlift_store::{AliasFilter, StoreError, Versioned};

use crate::app::App;
use crate::cas;
use crate::service::common::{MAX_PAGE, internal};

/// Checks a routing strategy and that a SIMPLE one points at a live fleet.
async fn checked_strategy(app: &App, strategy: RoutingStrategy) -> Result<RoutingStrategy, ApiError> {
    let strategy = alias::routing_strategy(strategy)?;
    if let Some(fleet_id) = &strategy.fleet_id {
        app.services.fleets.load(fleet_id).await?;
    }
    Ok(strategy)
}

async fn existing(app: &App, alias_id_or_arn: &str) -> Result<Versioned<Alias>, ApiError> {
    let id = ids::id_from_id_or_arn(alias_id_or_arn);
    let alias = app.store.get_alias(id).await.map_err(internal)?;
    alias.ok_or_else(|| ApiError::not_found(format!("Alias {id} not found.")))
}

/// Creates an alias.
pub async fn create(app: &App, input: CreateAliasInput) -> Result<CreateAliasOutput, ApiError> {
    let tags = tags::merge(&[], input.tags.as_deref().unwrap_or_default())?;
    let strategy = checked_strategy(app, input.routing_strategy).await?;
    let id = ids::new_alias_id();
    let now = app.now();
    let alias = Alias {
        alias_arn: Some(app.scope.alias_arn(&id)),
        alias_id: Some(id.clone()),
        name: Some(input.name),
        description: input.description,
        routing_strategy: Some(strategy),
        creation_time: Some(now),
        last_updated_time: Some(now),
    };
    match app.store.create_alias(&alias, &tags).await {
        Ok(()) => {}
        Err(StoreError::AlreadyExists) => return Err(ApiError::conflict(format!("Alias {id} already exists."))),
        Err(e) => return Err(internal(e)),
    }
    tracing::info!(alias_id = %id, "alias created");
    Ok(CreateAliasOutput { alias: Some(alias) })
}

/// One alias.
pub async fn describe(app: &App, input: DescribeAliasInput) -> Result<DescribeAliasOutput, ApiError> {
    Ok(DescribeAliasOutput { alias: Some(existing(app, &input.alias_id).await?.value) })
}

/// Aliases, optionally filtered by routing type and exact name.
pub async fn list(app: &App, input: ListAliasesInput) -> Result<ListAliasesOutput, ApiError> {
    let filter = AliasFilter {
        routing_strategy_type: input.routing_strategy_type.map(|t| t.as_str().to_owned()),
        name: input.name.clone(),
    };
    let scope = format!(
        "ListAliases|{}|{}",
        filter.routing_strategy_type.as_deref().unwrap_or_default(),
        filter.name.as_deref().unwrap_or_default()
    );
    let page = app.paging.request(&scope, input.limit, input.next_token.as_deref(), MAX_PAGE)?;
    let aliases = app.store.list_aliases(&filter, page).await.map_err(internal)?;
    let next_token = app.paging.next_token(&scope, &aliases);
    Ok(ListAliasesOutput { aliases: Some(aliases.items), next_token })
}

/// Changes an alias's name, description or routing; `LastUpdatedTime` moves.
pub async fn update(app: &App, input: UpdateAliasInput) -> Result<UpdateAliasOutput, ApiError> {
    let strategy = match input.routing_strategy {
        Some(s) => Some(checked_strategy(app, s).await?),
        None => None,
    };
    let not_found = || ApiError::not_found(format!("Alias {} not found.", input.alias_id));
    let resource = format!("Alias {}", input.alias_id);
    let mut attempts = cas::Attempts::new(&resource);
    loop {
        attempts.next()?;
        let Versioned { value: mut alias, version } = existing(app, &input.alias_id).await?;
        if let Some(name) = &input.name {
            alias.name = Some(name.clone());
        }
        if let Some(description) = &input.description {
            alias.description = Some(description.clone());
        }
        if let Some(strategy) = &strategy {
            alias.routing_strategy = Some(strategy.clone());
        }
        alias.last_updated_time = Some(app.now());
        if cas::written(app.store.update_alias(&alias, version).await, not_found)?.is_some() {
            return Ok(UpdateAliasOutput { alias: Some(alias) });
        }
    }
}

/// Deletes an alias and its tags.
pub async fn delete(app: &App, input: DeleteAliasInput) -> Result<(), ApiError> {
    let alias = existing(app, &input.alias_id).await?.value;
    let id = alias.alias_id.unwrap_or_default();
    match app.store.delete_alias(&id).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(ApiError::not_found(format!("Alias {id} not found."))),
        Err(e) => return Err(internal(e)),
    }
    app.store.delete_tags(&app.scope.alias_arn(&id)).await.map_err(internal)?;
    tracing::info!(alias_id = %id, "alias deleted");
    Ok(())
}

/// The fleet a SIMPLE alias points to; a TERMINAL alias answers its message.
pub async fn resolve(app: &App, input: ResolveAliasInput) -> Result<ResolveAliasOutput, ApiError> {
    let alias = existing(app, &input.alias_id).await?.value;
    let fleet_id = alias::resolve(&alias)?.to_owned();
    Ok(ResolveAliasOutput { fleet_arn: Some(app.scope.fleet_arn(&fleet_id)), fleet_id: Some(fleet_id) })
}
