//! Applying a parsed filter or sort to game sessions (`control-plane-api.md` section 7.9).

use std::cmp::Ordering;

use openlift_model::{GameSession, PlayerSessionCreationPolicy};

use super::{Comparator, Condition, Filter, Literal, Operand, Sort, SortOrder};

/// An operand's value on one session. Within one operand every value has the same variant,
/// so the derived order is the natural one (strings by code point, `false` before `true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Field<'a> {
    Text(&'a str),
    Number(i64),
    Bool(bool),
}

/// `operand` on `session`, or `None` when the session has no such value.
fn field<'a>(session: &'a GameSession, operand: &Operand) -> Option<Field<'a>> {
    match operand {
        Operand::GameSessionId => session.game_session_id.as_deref().map(Field::Text),
        Operand::GameSessionName => session.name.as_deref().map(Field::Text),
        Operand::GameSessionProperty(key) => session
            .game_properties
            .iter()
            .flatten()
            .find(|property| property.key == *key)
            .map(|property| Field::Text(&property.value)),
        Operand::MaximumSessions => session.maximum_player_session_count.map(|n| Field::Number(n.into())),
        Operand::CreationTimeMillis => session.creation_time.map(|t| Field::Number(t.as_millis())),
        Operand::PlayerSessionCount => session.current_player_session_count.map(|n| Field::Number(n.into())),
        Operand::HasAvailablePlayerSessions => Some(Field::Bool(has_available_player_sessions(session))),
    }
}

/// Room for one more player: fewer current than maximum player sessions, and not closed to new
/// players with `DENY_ALL` (an unset policy counts as `ACCEPT_ALL`, the default for new
/// sessions). The current count is whatever the store reports in `CurrentPlayerSessionCount`
/// (RESERVED plus ACTIVE player sessions, section 7.13).
fn has_available_player_sessions(session: &GameSession) -> bool {
    let current = session.current_player_session_count.unwrap_or(0);
    let maximum = session.maximum_player_session_count.unwrap_or(0);
    current < maximum && session.player_session_creation_policy != Some(PlayerSessionCreationPolicy::DenyAll)
}

impl Comparator {
    /// Whether `value <self> literal` holds, given `value.cmp(literal)`.
    fn holds(self, ordering: Ordering) -> bool {
        match self {
            Comparator::Eq => ordering.is_eq(),
            Comparator::Ne => ordering.is_ne(),
            Comparator::Lt => ordering.is_lt(),
            Comparator::Gt => ordering.is_gt(),
            Comparator::Le => ordering.is_le(),
            Comparator::Ge => ordering.is_ge(),
        }
    }
}

impl Condition {
    fn matches(&self, session: &GameSession) -> bool {
        let ordering = match (field(session, &self.operand), &self.literal) {
            (Some(Field::Text(value)), Literal::Text(literal)) => value.cmp(literal.as_str()),
            (Some(Field::Number(value)), Literal::Number(literal)) => value.cmp(literal),
            (Some(Field::Bool(value)), Literal::Bool(literal)) => value.cmp(literal),
            // A missing value equals nothing, so only `<>` holds.
            _ => return self.comparator == Comparator::Ne,
        };
        self.comparator.holds(ordering)
    }
}

impl Filter {
    /// Whether `session` satisfies the filter.
    ///
    /// Operands read the session as follows: `gameSessionId` is `GameSessionId`,
    /// `gameSessionName` is `Name`, `gameSessionProperties.k` is the value of the game property
    /// whose key is exactly `k`, `maximumSessions` is `MaximumPlayerSessionCount`,
    /// `creationTimeMillis` is `CreationTime` in milliseconds, `playerSessionCount` is
    /// `CurrentPlayerSessionCount`, and `hasAvailablePlayerSessions` is true when the session
    /// has fewer current than maximum player sessions and its `PlayerSessionCreationPolicy` is
    /// not `DENY_ALL`. Strings compare exactly (case-sensitive). When the session lacks the
    /// value, `<>` holds and every other comparator fails. Status and period-bearing property
    /// keys are not checked here; see [`super::is_searchable`].
    pub fn matches(&self, session: &GameSession) -> bool {
        match self {
            Filter::Condition(condition) => condition.matches(session),
            Filter::Not(inner) => !inner.matches(session),
            Filter::And(terms) => terms.iter().all(|term| term.matches(session)),
            Filter::Or(terms) => terms.iter().any(|term| term.matches(session)),
        }
    }
}

impl Sort {
    /// Orders two sessions by the sort operand in the chosen direction, reading operands as
    /// [`Filter::matches`] does (`false` sorts before `true`, strings by code point).
    ///
    /// Sessions lacking the value come after all others in either direction. Ties, including
    /// two sessions lacking the value, are broken by `GameSessionId` ascending so that the
    /// order is total and pages cut from it are stable.
    pub fn compare(&self, a: &GameSession, b: &GameSession) -> Ordering {
        let by_operand = match (field(a, &self.operand), field(b, &self.operand)) {
            (Some(x), Some(y)) => match self.order {
                SortOrder::Ascending => x.cmp(&y),
                SortOrder::Descending => y.cmp(&x),
            },
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        };
        by_operand.then_with(|| a.game_session_id.cmp(&b.game_session_id))
    }
}
