//! Alias rules: routing strategies and resolution (`control-plane-api.md` section 7.7).

use openlift_model::{Alias, ApiError, ErrorCode, RoutingStrategy, RoutingStrategyType};

/// Checks a routing strategy and normalises it as GameLift stores it: a SIMPLE
/// strategy must name a fleet; a TERMINAL one silently drops any fleet ID.
pub fn routing_strategy(mut strategy: RoutingStrategy) -> Result<RoutingStrategy, ApiError> {
    match strategy.r#type {
        None => Err(ApiError::invalid_request("RoutingStrategy.Type is required: SIMPLE or TERMINAL.")),
        Some(RoutingStrategyType::Simple) if strategy.fleet_id.is_none() => {
            Err(ApiError::invalid_request("A SIMPLE routing strategy requires RoutingStrategy.FleetId."))
        }
        Some(RoutingStrategyType::Simple) => Ok(strategy),
        Some(RoutingStrategyType::Terminal) => {
            strategy.fleet_id = None;
            Ok(strategy)
        }
    }
}

/// The fleet an alias routes to, or `TerminalRoutingStrategyException` carrying the
/// alias's message for a TERMINAL alias.
pub fn resolve(alias: &Alias) -> Result<&str, ApiError> {
    let strategy = alias.routing_strategy.as_ref();
    match strategy.and_then(|s| s.r#type) {
        Some(RoutingStrategyType::Simple) => {
            strategy.and_then(|s| s.fleet_id.as_deref()).ok_or_else(ApiError::internal)
        }
        _ => Err(ApiError::new(
            ErrorCode::TerminalRoutingStrategyException,
            strategy.and_then(|s| s.message.clone()).unwrap_or_default(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strategy(kind: RoutingStrategyType, fleet: Option<&str>, message: Option<&str>) -> RoutingStrategy {
        RoutingStrategy { r#type: Some(kind), fleet_id: fleet.map(Into::into), message: message.map(Into::into) }
    }

    #[test]
    fn terminal_strategy_drops_the_fleet_id() {
        let s = routing_strategy(strategy(RoutingStrategyType::Terminal, Some("fleet-1"), Some("gone"))).unwrap();
        assert_eq!(s.fleet_id, None);
        assert_eq!(s.message.as_deref(), Some("gone"));
    }

    #[test]
    fn simple_strategy_requires_a_fleet() {
        let err = routing_strategy(strategy(RoutingStrategyType::Simple, None, None)).unwrap_err();
        assert_eq!(err.code, ErrorCode::InvalidRequestException);
        assert!(err.message.contains("FleetId"));
    }

    #[test]
    fn resolving_a_terminal_alias_raises_its_message() {
        let alias = Alias {
            routing_strategy: Some(strategy(RoutingStrategyType::Terminal, None, Some("closed"))),
            ..Default::default()
        };
        let err = resolve(&alias).unwrap_err();
        assert_eq!((err.code, err.message.as_str()), (ErrorCode::TerminalRoutingStrategyException, "closed"));
        let alias = Alias {
            routing_strategy: Some(strategy(RoutingStrategyType::Simple, Some("fleet-1"), None)),
            ..Default::default()
        };
        assert_eq!(resolve(&alias).unwrap(), "fleet-1");
    }
}
