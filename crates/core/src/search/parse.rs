//! Lexer and recursive-descent parser for `FilterExpression` and `SortExpression`
//! (`control-plane-api.md` section 7.9).
//!
//! Filter grammar, loosest binding first (comparators bind tightest, then parentheses, `NOT`,
//! `AND`, `OR`; chains read left to right):
//!
//! ```text
//! or        = and { "OR" and }
//! and       = not { "AND" not }
//! not       = "NOT" not | primary
//! primary   = "(" or ")" | condition
//! condition = operand comparator value
//! ```
//!
//! Positions in error messages count characters from 1; the end of the text is one past
//! its last character.

use std::num::IntErrorKind;

use openlift_model::ApiError;

use super::{Comparator, Condition, Filter, Kind, Literal, MAX_NESTING, Operand, Sort, SortOrder};

/// Parses a `FilterExpression`, or explains (with a position) why it is not one.
pub fn parse_filter(text: &str) -> Result<Filter, ApiError> {
    let mut parser = Parser::new("FilterExpression", text)?;
    let filter = parser.or(0)?;
    match parser.peek() {
        None => Ok(filter),
        Some(token) if matches!(token.kind, TokenKind::Close) => {
            Err(parser.error(format!("unmatched ')' at position {}", token.pos)))
        }
        Some(_) => Err(parser.unexpected("expected AND, OR or the end of the expression")),
    }
}

/// Parses a `SortExpression` (`operand ASC` or `operand DESC`).
pub fn parse_sort(text: &str) -> Result<Sort, ApiError> {
    let mut parser = Parser::new("SortExpression", text)?;
    let operand = parser.operand()?;
    let order = match parser.peek().map(|token| &token.kind) {
        Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("ASC") => SortOrder::Ascending,
        Some(TokenKind::Word(word)) if word.eq_ignore_ascii_case("DESC") => SortOrder::Descending,
        _ => return Err(parser.unexpected(format!("expected ASC or DESC after '{operand}'"))),
    };
    parser.next += 1;
    if parser.peek().is_some() {
        return Err(parser.unexpected("expected the end of the expression"));
    }
    Ok(Sort { operand, order })
}

#[derive(Debug)]
enum TokenKind {
    Open,
    Close,
    Comparator(Comparator),
    Quoted(String),
    /// A run of characters other than whitespace, parentheses, comparators, quotes and `!`:
    /// keywords, operands, numbers and booleans.
    Word(String),
}

#[derive(Debug)]
struct Token {
    kind: TokenKind,
    /// 1-based character position of the token's first character.
    pos: usize,
}

impl Token {
    fn describe(&self) -> String {
        match &self.kind {
            TokenKind::Open => "'('".to_string(),
            TokenKind::Close => "')'".to_string(),
            TokenKind::Comparator(comparator) => format!("'{comparator}'"),
            TokenKind::Quoted(_) => "a quoted string".to_string(),
            TokenKind::Word(word) => format!("'{word}'"),
        }
    }
}

fn lex(what: &str, text: &str) -> Result<Vec<Token>, ApiError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        let (kind, len) = match (c, chars.get(i + 1)) {
            ('(', _) => (TokenKind::Open, 1),
            (')', _) => (TokenKind::Close, 1),
            ('=', _) => (TokenKind::Comparator(Comparator::Eq), 1),
            ('<', Some('>')) => (TokenKind::Comparator(Comparator::Ne), 2),
            ('<', Some('=')) => (TokenKind::Comparator(Comparator::Le), 2),
            ('<', _) => (TokenKind::Comparator(Comparator::Lt), 1),
            ('>', Some('=')) => (TokenKind::Comparator(Comparator::Ge), 2),
            ('>', _) => (TokenKind::Comparator(Comparator::Gt), 1),
            ('\'' | '"', _) => {
                let mut value = String::new();
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => {
                            return Err(ApiError::invalid_request(format!(
                                "{what}: unterminated string starting at position {pos}"
                            )));
                        }
                        Some(&d) if d == c => break,
                        Some('\\') => match chars.get(j + 1) {
                            Some(&escaped) => {
                                value.push(escaped);
                                j += 2;
                            }
                            None => {
                                return Err(ApiError::invalid_request(format!(
                                    "{what}: unterminated string starting at position {pos}"
                                )));
                            }
                        },
                        Some(&d) => {
                            value.push(d);
                            j += 1;
                        }
                    }
                }
                (TokenKind::Quoted(value), j + 1 - i)
            }
            ('!', _) => {
                return Err(ApiError::invalid_request(format!(
                    "{what}: unexpected character '!' at position {pos} (use <> or NOT)"
                )));
            }
            _ => {
                let len = chars[i..].iter().take_while(|&&d| is_word_char(d)).count();
                (TokenKind::Word(chars[i..i + len].iter().collect()), len)
            }
        };
        tokens.push(Token { kind, pos });
        i += len;
    }
    Ok(tokens)
}

fn is_word_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '(' | ')' | '=' | '<' | '>' | '\'' | '"' | '!')
}

struct Parser {
    what: &'static str,
    tokens: Vec<Token>,
    next: usize,
    /// Position one past the last character, reported when the text ends too early.
    end: usize,
}

impl Parser {
    fn new(what: &'static str, text: &str) -> Result<Self, ApiError> {
        Ok(Parser { what, tokens: lex(what, text)?, next: 0, end: text.chars().count() + 1 })
    }

    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn error(&self, message: impl AsRef<str>) -> ApiError {
        ApiError::invalid_request(format!("{}: {}", self.what, message.as_ref()))
    }

    /// `expected` at the next token's position, naming what was found instead.
    fn unexpected(&self, expected: impl AsRef<str>) -> ApiError {
        let expected = expected.as_ref();
        match self.peek() {
            Some(token) => self.error(format!("{expected} at position {}, found {}", token.pos, token.describe())),
            None => self.error(format!("{expected} at position {}, found the end of the expression", self.end)),
        }
    }

    fn eat_keyword(&mut self, keyword: &str) -> bool {
        let found = matches!(self.peek(), Some(Token { kind: TokenKind::Word(word), .. }) if word.eq_ignore_ascii_case(keyword));
        if found {
            self.next += 1;
        }
        found
    }

    fn nest(&self, depth: usize, pos: usize) -> Result<usize, ApiError> {
        if depth >= MAX_NESTING {
            return Err(self.error(format!("nesting deeper than {MAX_NESTING} levels at position {pos}")));
        }
        Ok(depth + 1)
    }

    fn or(&mut self, depth: usize) -> Result<Filter, ApiError> {
        let mut terms = vec![self.and(depth)?];
        while self.eat_keyword("OR") {
            terms.push(self.and(depth)?);
        }
        Ok(if terms.len() == 1 { terms.swap_remove(0) } else { Filter::Or(terms) })
    }

    fn and(&mut self, depth: usize) -> Result<Filter, ApiError> {
        let mut terms = vec![self.not(depth)?];
        while self.eat_keyword("AND") {
            terms.push(self.not(depth)?);
        }
        Ok(if terms.len() == 1 { terms.swap_remove(0) } else { Filter::And(terms) })
    }

    fn not(&mut self, depth: usize) -> Result<Filter, ApiError> {
        let pos = self.peek().map_or(self.end, |token| token.pos);
        if self.eat_keyword("NOT") {
            let depth = self.nest(depth, pos)?;
            return Ok(Filter::Not(Box::new(self.not(depth)?)));
        }
        self.primary(depth)
    }

    fn primary(&mut self, depth: usize) -> Result<Filter, ApiError> {
        let Some(Token { kind: TokenKind::Open, pos }) = self.peek() else {
            return self.condition().map(Filter::Condition);
        };
        let open = *pos;
        let depth = self.nest(depth, open)?;
        self.next += 1;
        let inner = self.or(depth)?;
        if !matches!(self.peek(), Some(Token { kind: TokenKind::Close, .. })) {
            return Err(self.unexpected(format!("expected ')' to close the '(' from position {open}")));
        }
        self.next += 1;
        Ok(inner)
    }

    fn operand(&mut self) -> Result<Operand, ApiError> {
        let Some(Token { kind: TokenKind::Word(word), pos }) = self.peek() else {
            return Err(self.unexpected("expected an operand"));
        };
        let operand = match word.split_once('.') {
            Some((head, key)) if head.eq_ignore_ascii_case("gameSessionProperties") => {
                if key.is_empty() {
                    return Err(self.error(format!("missing the property key after '{word}' at position {pos}")));
                }
                Operand::GameSessionProperty(key.to_string())
            }
            _ => match word.to_ascii_lowercase().as_str() {
                "gamesessionid" => Operand::GameSessionId,
                "gamesessionname" => Operand::GameSessionName,
                "maximumsessions" => Operand::MaximumSessions,
                "creationtimemillis" => Operand::CreationTimeMillis,
                "playersessioncount" => Operand::PlayerSessionCount,
                "hasavailableplayersessions" => Operand::HasAvailablePlayerSessions,
                "gamesessionproperties" => {
                    return Err(self
                        .error(format!("'{word}' at position {pos} needs a key, as in gameSessionProperties.<key>")));
                }
                _ => return Err(self.error(format!("unknown operand '{word}' at position {pos}"))),
            },
        };
        self.next += 1;
        Ok(operand)
    }

    fn condition(&mut self) -> Result<Condition, ApiError> {
        let operand = self.operand()?;
        let Some(Token { kind: TokenKind::Comparator(comparator), pos }) = self.peek() else {
            return Err(self.unexpected(format!("expected a comparator after '{operand}'")));
        };
        let (comparator, comparator_pos) = (*comparator, *pos);
        let kind = operand.kind();
        if kind != Kind::Number && !matches!(comparator, Comparator::Eq | Comparator::Ne) {
            return Err(self.error(format!(
                "'{comparator}' at position {comparator_pos} cannot compare '{operand}': strings and booleans \
                 only allow = and <>"
            )));
        }
        self.next += 1;
        let literal = self.literal(&operand, kind)?;
        self.next += 1;
        Ok(Condition { operand, comparator, literal })
    }

    /// Reads the value token for `operand` without consuming it.
    fn literal(&self, operand: &Operand, kind: Kind) -> Result<Literal, ApiError> {
        let expected = || self.unexpected(format!("expected {} after '{operand}'", kind_name(kind)));
        let Some(token) = self.peek() else {
            return Err(expected());
        };
        match (&token.kind, kind) {
            (TokenKind::Quoted(text), Kind::Text) => Ok(Literal::Text(text.clone())),
            // Property values are strings, but an unquoted whole number is taken as its own text.
            (TokenKind::Word(word), Kind::Text)
                if matches!(operand, Operand::GameSessionProperty(_)) && is_integer(word) =>
            {
                Ok(Literal::Text(word.clone()))
            }
            (TokenKind::Word(word), Kind::Bool) if word.eq_ignore_ascii_case("true") => Ok(Literal::Bool(true)),
            (TokenKind::Word(word), Kind::Bool) if word.eq_ignore_ascii_case("false") => Ok(Literal::Bool(false)),
            (TokenKind::Word(word), Kind::Number) => match word.parse::<i64>() {
                Ok(number) => Ok(Literal::Number(number)),
                Err(e) if matches!(e.kind(), IntErrorKind::PosOverflow | IntErrorKind::NegOverflow) => {
                    Err(self.error(format!("number '{word}' at position {} is out of range", token.pos)))
                }
                Err(_) => Err(expected()),
            },
            _ => Err(expected()),
        }
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Text => "a quoted string",
        Kind::Number => "a whole number",
        Kind::Bool => "true or false",
    }
}

fn is_integer(word: &str) -> bool {
    let digits = word.strip_prefix(['+', '-']).unwrap_or(word);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}
