//! The SearchGameSessions filter and sort grammar (`control-plane-api.md` section 7.9,
//! SearchGameSessions; request shape in section 4).
//!
//! [`parse_filter`] turns a `FilterExpression` into a [`Filter`] tree and [`parse_sort`] a
//! `SortExpression` into a [`Sort`]; [`Filter::matches`] and [`Sort::compare`] then apply them
//! to [`GameSession`] records. Rules the API documents are followed as written; where it is
//! silent the choice made here is stated on the item concerned:
//!
//! * Keywords (`AND`, `OR`, `NOT`, `ASC`, `DESC`, `true`, `false`) and operand names are matched
//!   without regard to ASCII case; property keys and string values are case-sensitive.
//! * Strings may be quoted with `'` or `"`; a backslash makes the next character literal.
//! * Numbers are whole numbers (an optional sign and decimal digits, `i64` range).
//! * Strings and booleans allow only `=` and `<>`; `gameSessionProperties.<key>` values are
//!   strings, but an unquoted whole number is accepted there and compared as its text.
//! * A value that a session lacks (no name, no such property) is unequal to every literal:
//!   `<>` holds and every other comparator fails, so `a <> v` always means `NOT a = v`.
//! * Nesting (parentheses and `NOT`) deeper than [`MAX_NESTING`] levels is rejected.

mod eval;
mod parse;
#[cfg(test)]
mod tests;

use std::fmt;

use openlift_model::{GameSession, GameSessionStatus};

pub use parse::{parse_filter, parse_sort};

/// Deepest nesting of parentheses and `NOT` a filter may use; deeper input is an
/// `InvalidRequestException` rather than a risk to the parser's stack.
pub const MAX_NESTING: usize = 64;

/// A game-session attribute that a filter condition or a sort refers to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operand {
    /// `gameSessionId`: the game session ID (its ARN), as a string.
    GameSessionId,
    /// `gameSessionName`: the session's `Name`, as a string.
    GameSessionName,
    /// `gameSessionProperties.<key>`: the value of the game property with this key, as a string.
    /// Everything after the first `.` is the key, so a key may itself contain periods.
    GameSessionProperty(String),
    /// `maximumSessions`: `MaximumPlayerSessionCount`, a number.
    MaximumSessions,
    /// `creationTimeMillis`: `CreationTime` in milliseconds since the Unix epoch, a number.
    CreationTimeMillis,
    /// `playerSessionCount`: `CurrentPlayerSessionCount`, a number.
    PlayerSessionCount,
    /// `hasAvailablePlayerSessions`: a boolean, true when the session can take another player
    /// (see [`Filter::matches`]).
    HasAvailablePlayerSessions,
}

/// What kind of literal an operand compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Number,
    Bool,
}

impl Operand {
    fn kind(&self) -> Kind {
        match self {
            Operand::GameSessionId | Operand::GameSessionName | Operand::GameSessionProperty(_) => Kind::Text,
            Operand::MaximumSessions | Operand::CreationTimeMillis | Operand::PlayerSessionCount => Kind::Number,
            Operand::HasAvailablePlayerSessions => Kind::Bool,
        }
    }
}

impl fmt::Display for Operand {
    /// The operand as written in an expression, e.g. `gameSessionProperties.gameMode`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Operand::GameSessionId => f.write_str("gameSessionId"),
            Operand::GameSessionName => f.write_str("gameSessionName"),
            Operand::GameSessionProperty(key) => write!(f, "gameSessionProperties.{key}"),
            Operand::MaximumSessions => f.write_str("maximumSessions"),
            Operand::CreationTimeMillis => f.write_str("creationTimeMillis"),
            Operand::PlayerSessionCount => f.write_str("playerSessionCount"),
            Operand::HasAvailablePlayerSessions => f.write_str("hasAvailablePlayerSessions"),
        }
    }
}

/// A comparison between an operand and a literal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparator {
    /// `=`
    Eq,
    /// `<>`
    Ne,
    /// `<`
    Lt,
    /// `>`
    Gt,
    /// `<=`
    Le,
    /// `>=`
    Ge,
}

impl fmt::Display for Comparator {
    /// The comparator's symbol.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Comparator::Eq => "=",
            Comparator::Ne => "<>",
            Comparator::Lt => "<",
            Comparator::Gt => ">",
            Comparator::Le => "<=",
            Comparator::Ge => ">=",
        })
    }
}

/// The value side of a condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Literal {
    /// A string (quoted in the expression, escapes already resolved).
    Text(String),
    /// A whole number.
    Number(i64),
    /// `true` or `false`.
    Bool(bool),
}

/// One `operand comparator value` condition. Only [`parse_filter`] builds these, so the
/// literal always has the operand's kind and strings and booleans only use `=` or `<>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    operand: Operand,
    comparator: Comparator,
    literal: Literal,
}

impl Condition {
    /// The attribute compared.
    pub fn operand(&self) -> &Operand {
        &self.operand
    }

    /// How it is compared.
    pub fn comparator(&self) -> Comparator {
        self.comparator
    }

    /// What it is compared with.
    pub fn literal(&self) -> &Literal {
        &self.literal
    }
}

/// A parsed `FilterExpression`.
///
/// `a AND b AND c` is one [`Filter::And`] with three children; parentheses make a nested node
/// (and otherwise leave no trace), so the tree mirrors how the expression was grouped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    /// A single comparison.
    Condition(Condition),
    /// `NOT x`: true when `x` is false.
    Not(Box<Filter>),
    /// `x AND y AND ...` (at least two children): true when all are.
    And(Vec<Filter>),
    /// `x OR y OR ...` (at least two children): true when any is.
    Or(Vec<Filter>),
}

/// Sort direction of a `SortExpression`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortOrder {
    /// `ASC`: smallest first (for `creationTimeMillis`, oldest first).
    Ascending,
    /// `DESC`: largest first.
    Descending,
}

/// A parsed `SortExpression`: one operand and a direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sort {
    /// The attribute sorted on.
    pub operand: Operand,
    /// Which end comes first.
    pub order: SortOrder,
}

/// Whether SearchGameSessions may return `session` at all, whatever the filter: only `ACTIVE`
/// sessions are searched, and a session with a game property key containing `.` is left out
/// (section 7.9: such keys cannot be indexed, and AWS drops those sessions from results).
pub fn is_searchable(session: &GameSession) -> bool {
    session.status == Some(GameSessionStatus::Active)
        && session.game_properties.iter().flatten().all(|property| !property.key.contains('.'))
}
