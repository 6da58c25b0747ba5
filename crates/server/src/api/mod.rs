//! The GameLift operations: one exhaustive `match` from each operation openlift serves
//! ([`Implemented`], generated with [`Operation`]) to its handler; every other operation of
//! the model is answered as [`unsupported`].
//!
//! Handlers take the decoded, validated input shape and return the output shape;
//! everything about the wire stays in the HTTP layer.

mod aliases;
mod capacity;
mod computes;
mod fleet_locations;
mod fleets;
mod game_sessions;
mod locations;
mod player_sessions;

mod tags;

use std::future::Future;

use openlift_core::ids;
use openlift_core::records::Fleet;
use openlift_model::{ApiError, Implemented, Operation, Shape, Value};

use crate::app::App;
use crate::service::common::internal;

/// Runs `op` on `input`, returning the encoded output, or an error the operation declares.
pub async fn dispatch(app: &App, op: Operation, input: Value) -> Result<Value, ApiError> {
    run(app, op, input).await.map_err(|error| declared(op, error))
}

/// `error` as the client may receive it from `op`. A GameLift exception that `op` does not
/// declare (a `ConflictException` from a busy game session's retries, say, which
/// TerminateGameSession does not declare) becomes an `InvalidRequestException` with the same
/// message, so that SDKs generated from the model still parse it as one of the operation's
/// errors. Framework errors are not the model's to declare and pass unchanged.
fn declared(op: Operation, error: ApiError) -> ApiError {
    if !error.code.is_modelled() || op.errors().contains(&error.code) {
        return error;
    }
    tracing::debug!(operation = op.name(), code = %error.code, "answering an undeclared error as InvalidRequestException");
    ApiError::invalid_request(error.message)
}

async fn run(app: &App, op: Operation, input: Value) -> Result<Value, ApiError> {
    use Implemented as O;
    let Some(implemented) = op.implemented() else {
        return Err(unsupported(op));
    };
    match implemented {
        O::CreateLocation => call(app, input, locations::create).await,
        O::ListLocations => call(app, input, locations::list).await,
        O::DeleteLocation => call(app, input, locations::delete).await,
        O::CreateFleet => call(app, input, fleets::create).await,
        O::DescribeFleetAttributes => call(app, input, fleets::describe_attributes).await,
        O::ListFleets => call(app, input, fleets::list).await,
        O::UpdateFleetAttributes => call(app, input, fleets::update_attributes).await,
        O::DeleteFleet => call_no_output(app, input, fleets::delete).await,
        O::UpdateRuntimeConfiguration => call(app, input, fleets::update_runtime_configuration).await,
        O::DescribeRuntimeConfiguration => call(app, input, fleets::describe_runtime_configuration).await,
        O::DescribeFleetEvents => call(app, input, fleets::describe_events).await,
        O::DescribeFleetCapacity => call(app, input, capacity::describe_capacity).await,
        O::DescribeFleetUtilization => call(app, input, capacity::describe_utilization).await,
        O::DescribeFleetLocationCapacity => call(app, input, capacity::describe_location_capacity).await,
        O::DescribeFleetLocationUtilization => call(app, input, capacity::describe_location_utilization).await,
        O::CreateFleetLocations => call(app, input, fleet_locations::create).await,
        O::DeleteFleetLocations => call(app, input, fleet_locations::delete).await,
        O::DescribeFleetLocationAttributes => call(app, input, fleet_locations::describe).await,
        O::RegisterCompute => call(app, input, computes::register).await,
        O::DeregisterCompute => call(app, input, computes::deregister).await,
        O::DescribeCompute => call(app, input, computes::describe).await,
        O::ListCompute => call(app, input, computes::list).await,
        O::GetComputeAuthToken => call(app, input, computes::auth_token).await,
        O::CreateAlias => call(app, input, aliases::create).await,
        O::DescribeAlias => call(app, input, aliases::describe).await,
        O::ListAliases => call(app, input, aliases::list).await,
        O::UpdateAlias => call(app, input, aliases::update).await,
        O::DeleteAlias => call_no_output(app, input, aliases::delete).await,
        O::ResolveAlias => call(app, input, aliases::resolve).await,
        O::CreateGameSession => call(app, input, game_sessions::create).await,
        O::DescribeGameSessions => call(app, input, game_sessions::describe).await,
        O::DescribeGameSessionDetails => call(app, input, game_sessions::describe_details).await,
        O::SearchGameSessions => call(app, input, game_sessions::search).await,
        O::UpdateGameSession => call(app, input, game_sessions::update).await,
        O::TerminateGameSession => call(app, input, game_sessions::terminate).await,
        O::GetGameSessionLogUrl => call(app, input, crate::logs::url).await,
        O::CreatePlayerSession => call(app, input, player_sessions::create_one).await,
        O::CreatePlayerSessions => call(app, input, player_sessions::create_many).await,
        O::DescribePlayerSessions => call(app, input, player_sessions::describe).await,
        O::TagResource => call(app, input, tags::tag).await,
        O::UntagResource => call(app, input, tags::untag).await,
        O::ListTagsForResource => call(app, input, tags::list).await,
    }
}

/// The answer to an operation of the model that openlift does not implement yet.
pub fn unsupported(op: Operation) -> ApiError {
    ApiError::invalid_request(format!("Operation {} is not supported by openlift yet.", op.name()))
}

async fn call<'a, I, O, F>(app: &'a App, input: Value, handler: impl FnOnce(&'a App, I) -> F) -> Result<Value, ApiError>
where
    I: Shape,
    O: Shape,
    F: Future<Output = Result<O, ApiError>> + 'a,
{
    Ok(handler(app, I::from_value(input)?).await?.to_value())
}

async fn call_no_output<'a, I, F>(
    app: &'a App,
    input: Value,
    handler: impl FnOnce(&'a App, I) -> F,
) -> Result<Value, ApiError>
where
    I: Shape,
    F: Future<Output = Result<(), ApiError>> + 'a,
{
    handler(app, I::from_value(input)?).await?;
    Ok(Value::Map(Vec::new()))
}

/// Most fleet IDs one fleet-wide describe call may name.
const MAX_FLEET_IDS: usize = 100;

/// The fleets a fleet-wide describe call asks for, and the `NextToken` to return: the named
/// fleets in the order asked (at most 100, unknown or deleted ones left out, `Limit` and
/// `NextToken` ignored), or a page of all live fleets.
pub(crate) async fn selected_fleets(
    app: &App,
    scope: &str,
    fleet_ids: Option<Vec<String>>,
    limit: Option<i32>,
    next_token: Option<&str>,
) -> Result<(Vec<Fleet>, Option<String>), ApiError> {
    if let Some(fleet_ids) = fleet_ids {
        if fleet_ids.len() > MAX_FLEET_IDS {
            return Err(ApiError::invalid_request(format!(
                "FleetIds names {} fleets; at most {MAX_FLEET_IDS} may be given in one request.",
                fleet_ids.len()
            )));
        }
        let mut found = Vec::new();
        for id in &fleet_ids {
            if let Some(f) = app.store.get_fleet(ids::id_from_id_or_arn(id)).await.map_err(internal)?
                && !openlift_core::fleet::is_deleted(&f.value)
            {
                found.push(f.value);
            }
        }
        return Ok((found, None));
    }
    let page = app.paging.request(scope, limit, next_token, crate::service::common::MAX_PAGE)?;
    let fleets = app.store.list_fleets(false, page).await.map_err(internal)?;
    let next_token = app.paging.next_token(scope, &fleets);
    Ok((fleets.items, next_token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_undeclared_exception_is_answered_as_invalid_request_with_its_message() {
        let busy = "Game session gsess-1 is being changed by other requests; retry.";
        let answered = declared(Operation::TerminateGameSession, ApiError::conflict(busy));
        assert_eq!(answered, ApiError::invalid_request(busy));
    }

    #[test]
    fn declared_exceptions_and_framework_errors_pass_unchanged() {
        let conflict = ApiError::conflict("busy");
        assert_eq!(declared(Operation::UpdateGameSession, conflict.clone()), conflict);
        let internal = ApiError::internal();
        assert_eq!(declared(Operation::TerminateGameSession, internal.clone()), internal);
        let malformed = ApiError::serialization("GameSessionId must be a string");
        assert_eq!(declared(Operation::TerminateGameSession, malformed.clone()), malformed);
    }
}
