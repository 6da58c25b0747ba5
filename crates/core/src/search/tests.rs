use std::cmp::Ordering;

use openlift_model::{ErrorCode, GameProperty, GameSession, GameSessionStatus, PlayerSessionCreationPolicy, Timestamp};
use proptest::prelude::*;
use proptest::sample::select;

use super::*;

fn cond(operand: Operand, comparator: Comparator, literal: Literal) -> Filter {
    Filter::Condition(Condition { operand, comparator, literal })
}

fn text(s: &str) -> Literal {
    Literal::Text(s.to_string())
}

fn prop(key: &str) -> Operand {
    Operand::GameSessionProperty(key.to_string())
}

fn session(name: Option<&str>, current: i32, maximum: i32, created: i64, props: &[(&str, &str)]) -> GameSession {
    GameSession {
        game_session_id: Some(format!("arn:aws:gamelift:us-east-1::gamesession/fleet-1/{}", name.unwrap_or("x"))),
        name: name.map(str::to_string),
        current_player_session_count: Some(current),
        maximum_player_session_count: Some(maximum),
        creation_time: Some(Timestamp::from_millis(created)),
        status: Some(GameSessionStatus::Active),
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::AcceptAll),
        game_properties: Some(
            props.iter().map(|(k, v)| GameProperty { key: k.to_string(), value: v.to_string() }).collect(),
        ),
        ..GameSession::default()
    }
}

fn filter_error(text: &str) -> String {
    let error = parse_filter(text).expect_err(text);
    assert_eq!(error.code, ErrorCode::InvalidRequestException);
    error.message
}

#[test]
fn parses_documented_examples() {
    assert_eq!(
        parse_filter(r"gameSessionName = 'Matt\'s Awesome Game 1'").unwrap(),
        cond(Operand::GameSessionName, Comparator::Eq, text("Matt's Awesome Game 1"))
    );
    assert_eq!(
        parse_filter(r#"gameSessionProperties.difficulty = "novice""#).unwrap(),
        cond(prop("difficulty"), Comparator::Eq, text("novice"))
    );
    assert_eq!(
        parse_filter("maximumSessions>=10 AND hasAvailablePlayerSessions=true").unwrap(),
        Filter::And(vec![
            cond(Operand::MaximumSessions, Comparator::Ge, Literal::Number(10)),
            cond(Operand::HasAvailablePlayerSessions, Comparator::Eq, Literal::Bool(true)),
        ])
    );
    assert_eq!(
        parse_filter(r#"gameSessionName = "My Game" AND playerSessionCount < 8"#).unwrap(),
        Filter::And(vec![
            cond(Operand::GameSessionName, Comparator::Eq, text("My Game")),
            cond(Operand::PlayerSessionCount, Comparator::Lt, Literal::Number(8)),
        ])
    );
    assert_eq!(
        parse_filter("creationTimeMillis>1700000000000").unwrap(),
        cond(Operand::CreationTimeMillis, Comparator::Gt, Literal::Number(1_700_000_000_000))
    );
    assert_eq!(
        parse_sort("creationTimeMillis ASC").unwrap(),
        Sort { operand: Operand::CreationTimeMillis, order: SortOrder::Ascending }
    );
}

#[test]
fn documented_examples_select_the_right_sessions() {
    let open = session(Some("My Game"), 3, 12, 1_000, &[("gameMode", "brawl")]);
    let full = session(Some("My Game"), 12, 12, 2_000, &[("gameMode", "Brawl")]);
    let other = session(Some("my game"), 9, 10, 3_000, &[]);
    let run = |text: &str| -> Vec<bool> {
        let filter = parse_filter(text).unwrap();
        [&open, &full, &other].iter().map(|s| filter.matches(s)).collect()
    };
    assert_eq!(run(r#"gameSessionName = "My Game" AND playerSessionCount < 8"#), [true, false, false]);
    assert_eq!(run("maximumSessions>=10 AND hasAvailablePlayerSessions=true"), [true, false, true]);
    assert_eq!(run(r#"gameSessionProperties.gameMode = "brawl""#), [true, false, false]);
    assert_eq!(run("creationTimeMillis > 1000"), [false, true, true]);
    assert_eq!(run("creationTimeMillis <= 2000"), [true, true, false]);
    assert_eq!(run("NOT (playerSessionCount = 3 OR maximumSessions <> 12)"), [false, true, false]);
}

#[test]
fn not_binds_tighter_than_and_which_binds_tighter_than_or() {
    let a = || cond(Operand::PlayerSessionCount, Comparator::Eq, Literal::Number(1));
    let b = || cond(Operand::PlayerSessionCount, Comparator::Eq, Literal::Number(2));
    let c = || cond(Operand::PlayerSessionCount, Comparator::Eq, Literal::Number(3));
    let (ta, tb, tc) = ("playerSessionCount=1", "playerSessionCount=2", "playerSessionCount=3");
    assert_eq!(
        parse_filter(&format!("{ta} OR {tb} AND {tc}")).unwrap(),
        Filter::Or(vec![a(), Filter::And(vec![b(), c()])])
    );
    assert_eq!(
        parse_filter(&format!("{ta} AND {tb} OR {tc}")).unwrap(),
        Filter::Or(vec![Filter::And(vec![a(), b()]), c()])
    );
    assert_eq!(
        parse_filter(&format!("NOT {ta} AND {tb}")).unwrap(),
        Filter::And(vec![Filter::Not(Box::new(a())), b()])
    );
    assert_eq!(parse_filter(&format!("NOT {ta} OR {tb}")).unwrap(), Filter::Or(vec![Filter::Not(Box::new(a())), b()]));
    assert_eq!(
        parse_filter(&format!("({ta} OR {tb}) AND {tc}")).unwrap(),
        Filter::And(vec![Filter::Or(vec![a(), b()]), c()])
    );
    assert_eq!(
        parse_filter(&format!("{ta} AND {tb} AND NOT {tc}")).unwrap(),
        Filter::And(vec![a(), b(), Filter::Not(Box::new(c()))])
    );
    assert_eq!(
        parse_filter(&format!("NOT ({ta} OR {tb})")).unwrap(),
        Filter::Not(Box::new(Filter::Or(vec![a(), b()])))
    );
    assert_eq!(parse_filter(&format!("NOT NOT (({ta}))")).unwrap(), Filter::Not(Box::new(Filter::Not(Box::new(a())))));
}

#[test]
fn keywords_and_operand_names_ignore_case_but_keys_and_strings_do_not() {
    assert_eq!(
        parse_filter("MAXIMUMSESSIONS >= 10 and not HasAvailablePlayerSessions = FALSE").unwrap(),
        Filter::And(vec![
            cond(Operand::MaximumSessions, Comparator::Ge, Literal::Number(10)),
            Filter::Not(Box::new(cond(Operand::HasAvailablePlayerSessions, Comparator::Eq, Literal::Bool(false)))),
        ])
    );
    assert_eq!(
        parse_filter("GAMESESSIONPROPERTIES.Mode = 'X'").unwrap(),
        cond(prop("Mode"), Comparator::Eq, text("X"))
    );
    assert_eq!(parse_sort("gamesessionname desc").unwrap().order, SortOrder::Descending);
    let s = session(Some("Lobby"), 0, 4, 0, &[("Mode", "X")]);
    assert!(!parse_filter("gameSessionName = 'lobby'").unwrap().matches(&s));
    assert!(!parse_filter("gameSessionProperties.mode = 'X'").unwrap().matches(&s));
    assert!(parse_filter("gameSessionProperties.Mode = 'X'").unwrap().matches(&s));
}

#[test]
fn strings_take_either_quote_and_backslash_escapes() {
    for (source, expected) in [
        (r#"gameSessionName = "say \"hi\"""#, r#"say "hi""#),
        (r#"gameSessionName = 'say "hi"'"#, r#"say "hi""#),
        (r#"gameSessionName = "it's""#, "it's"),
        (r"gameSessionName = 'back\\slash'", r"back\slash"),
        (r"gameSessionName = '\a\b'", "ab"),
        ("gameSessionName = ''", ""),
        ("gameSessionName='a AND b'", "a AND b"),
    ] {
        assert_eq!(
            parse_filter(source).unwrap(),
            cond(Operand::GameSessionName, Comparator::Eq, text(expected)),
            "{source}"
        );
    }
}

#[test]
fn property_keys_may_contain_periods_and_numbers_compare_as_text() {
    assert_eq!(parse_filter("gameSessionProperties.a.b <> 'x'").unwrap(), cond(prop("a.b"), Comparator::Ne, text("x")));
    assert_eq!(
        parse_filter("gameSessionProperties.level = 05").unwrap(),
        cond(prop("level"), Comparator::Eq, text("05"))
    );
    let s = session(None, 0, 1, 0, &[("level", "5")]);
    assert!(parse_filter("gameSessionProperties.level = 5").unwrap().matches(&s));
    assert!(!parse_filter("gameSessionProperties.level = 05").unwrap().matches(&s));
}

#[test]
fn missing_values_only_satisfy_not_equal() {
    let s = GameSession { game_properties: None, ..session(None, 1, 2, 0, &[]) };
    let unnamed_and_unset = GameSession { maximum_player_session_count: None, creation_time: None, ..s };
    for (expression, expected) in [
        ("gameSessionName = 'x'", false),
        ("gameSessionName <> 'x'", true),
        ("gameSessionProperties.mode = 'x'", false),
        ("gameSessionProperties.mode <> 'x'", true),
        ("maximumSessions >= 0", false),
        ("maximumSessions < 0", false),
        ("maximumSessions <> 0", true),
        ("creationTimeMillis > 0", false),
        ("NOT gameSessionName = 'x'", true),
    ] {
        assert_eq!(parse_filter(expression).unwrap().matches(&unnamed_and_unset), expected, "{expression}");
    }
}

#[test]
fn available_player_sessions_needs_a_free_slot_and_accept_all() {
    let available = parse_filter("hasAvailablePlayerSessions = true").unwrap();
    let unavailable = parse_filter("hasAvailablePlayerSessions <> TRUE").unwrap();
    let open = session(None, 3, 4, 0, &[]);
    let full = session(None, 4, 4, 0, &[]);
    let denying = GameSession {
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
        ..session(None, 0, 4, 0, &[])
    };
    let unset_policy = GameSession { player_session_creation_policy: None, ..session(None, 0, 4, 0, &[]) };
    assert!(available.matches(&open) && !unavailable.matches(&open));
    assert!(!available.matches(&full) && unavailable.matches(&full));
    assert!(!available.matches(&denying) && unavailable.matches(&denying));
    assert!(available.matches(&unset_policy));
}

#[test]
fn rejects_malformed_filters_with_a_position() {
    for (expression, expected) in [
        ("maximumSessions", "FilterExpression: expected a comparator after 'maximumSessions' at position 16"),
        ("maximumSessions 10", "expected a comparator after 'maximumSessions' at position 17, found '10'"),
        ("", "expected an operand at position 1, found the end of the expression"),
        ("   ", "expected an operand at position 4"),
        ("playerCount = 3", "unknown operand 'playerCount' at position 1"),
        ("gameSessionProperties = 'x'", "'gameSessionProperties' at position 1 needs a key"),
        ("gameSessionProperties. = 'x'", "missing the property key after 'gameSessionProperties.' at position 1"),
        ("maximumSessions >=", "expected a whole number after 'maximumSessions' at position 19"),
        ("maximumSessions >= 'ten'", "expected a whole number after 'maximumSessions' at position 20, found a quoted"),
        ("maximumSessions >= 1.5", "expected a whole number after 'maximumSessions' at position 20, found '1.5'"),
        ("maximumSessions >= 99999999999999999999", "number '99999999999999999999' at position 20 is out of range"),
        ("gameSessionName = Lobby", "expected a quoted string after 'gameSessionName' at position 19, found 'Lobby'"),
        ("gameSessionName = 5", "expected a quoted string after 'gameSessionName' at position 19"),
        ("gameSessionName < 'a'", "'<' at position 17 cannot compare 'gameSessionName'"),
        ("gameSessionProperties.level >= '5'", "'>=' at position 29 cannot compare 'gameSessionProperties.level'"),
        ("hasAvailablePlayerSessions > false", "'>' at position 28 cannot compare"),
        (
            "hasAvailablePlayerSessions = yes",
            "expected true or false after 'hasAvailablePlayerSessions' at position 30",
        ),
        ("hasAvailablePlayerSessions = 'true'", "expected true or false after 'hasAvailablePlayerSessions'"),
        ("gameSessionName = 'open", "unterminated string starting at position 19"),
        (r"gameSessionName = 'open\", "unterminated string starting at position 19"),
        ("maximumSessions != 3", "unexpected character '!' at position 17"),
        ("maximumSessions == 3", "expected a whole number after 'maximumSessions' at position 18, found '='"),
        ("(maximumSessions = 3", "expected ')' to close the '(' from position 1 at position 21"),
        ("maximumSessions = 3)", "unmatched ')' at position 20"),
        ("maximumSessions = 3 playerSessionCount = 1", "expected AND, OR or the end of the expression at position 21"),
        ("maximumSessions = 3 AND", "expected an operand at position 24, found the end of the expression"),
        ("NOT", "expected an operand at position 4"),
        ("()", "expected an operand at position 2, found ')'"),
        ("AND maximumSessions = 3", "unknown operand 'AND' at position 1"),
    ] {
        let message = filter_error(expression);
        assert!(message.contains(expected), "{expression:?}: {message:?} lacks {expected:?}");
        assert!(message.starts_with("FilterExpression: "), "{message}");
    }
}

#[test]
fn nesting_is_limited_instead_of_overflowing_the_stack() {
    let condition = "playerSessionCount = 1";
    let nested = |levels: usize| format!("{}{condition}{}", "(".repeat(levels), ")".repeat(levels));
    assert!(parse_filter(&nested(MAX_NESTING)).is_ok());
    assert!(filter_error(&nested(MAX_NESTING + 1)).contains("nesting deeper than 64 levels at position 65"));
    assert!(parse_filter(&format!("{}{condition}", "NOT ".repeat(MAX_NESTING))).is_ok());
    assert!(filter_error(&format!("{}{condition}", "NOT ".repeat(MAX_NESTING + 1))).contains("nesting deeper"));
    assert!(filter_error(&nested(1_000_000)).contains("nesting deeper"));
    let long_chain = vec![condition; 100_000].join(" AND ");
    assert!(parse_filter(&long_chain).unwrap().matches(&session(None, 1, 2, 0, &[])));
}

#[test]
fn rejects_malformed_sorts() {
    for (expression, expected) in [
        ("creationTimeMillis", "SortExpression: expected ASC or DESC after 'creationTimeMillis' at position 19"),
        ("creationTimeMillis UP", "expected ASC or DESC after 'creationTimeMillis' at position 20, found 'UP'"),
        ("creationTimeMillis ASC DESC", "expected the end of the expression at position 24"),
        ("ASC", "SortExpression: unknown operand 'ASC' at position 1"),
        ("", "SortExpression: expected an operand at position 1"),
        ("(creationTimeMillis ASC)", "expected an operand at position 1, found '('"),
    ] {
        let message = parse_sort(expression).expect_err(expression).message;
        assert!(message.contains(expected), "{expression:?}: {message:?} lacks {expected:?}");
    }
}

#[test]
fn sort_puts_sessions_without_the_value_last_in_both_directions() {
    let a = session(Some("a"), 0, 1, 0, &[("rank", "2")]);
    let b = session(Some("b"), 0, 1, 0, &[("rank", "10")]);
    let c = session(Some("c"), 0, 1, 0, &[]);
    let d = session(Some("d"), 0, 1, 0, &[("rank", "2")]);
    let order = |sort: &str, sessions: &[&GameSession]| -> Vec<String> {
        let sort = parse_sort(sort).unwrap();
        let mut sorted = sessions.to_vec();
        sorted.sort_by(|x, y| sort.compare(x, y));
        sorted.iter().map(|s| s.name.clone().unwrap()).collect()
    };
    assert_eq!(order("gameSessionProperties.rank ASC", &[&c, &d, &a, &b]), ["b", "a", "d", "c"]);
    assert_eq!(order("gameSessionProperties.rank DESC", &[&c, &b, &d, &a]), ["a", "d", "b", "c"]);
    let old = session(Some("old"), 0, 1, 5, &[]);
    let new = session(Some("new"), 0, 1, 9, &[]);
    assert_eq!(order("creationTimeMillis ASC", &[&new, &old]), ["old", "new"]);
    assert_eq!(order("creationTimeMillis DESC", &[&old, &new]), ["new", "old"]);
    let free = session(Some("free"), 0, 1, 0, &[]);
    let full = session(Some("full"), 1, 1, 0, &[]);
    assert_eq!(order("hasAvailablePlayerSessions DESC", &[&full, &free]), ["free", "full"]);
}

#[test]
fn only_active_sessions_without_dotted_property_keys_are_searchable() {
    assert!(is_searchable(&session(None, 0, 1, 0, &[("mode", "x")])));
    assert!(!is_searchable(&session(None, 0, 1, 0, &[("mode", "x"), ("a.b", "y")])));
    let activating = GameSession { status: Some(GameSessionStatus::Activating), ..session(None, 0, 1, 0, &[]) };
    assert!(!is_searchable(&activating));
}

// Property tests: random filter trees, printed with random spacing, casing, quoting and
// redundant parentheses, must parse back to the same tree and agree with a reference
// evaluator written straight from section 7.9.

const TEXTS: &[&str] = &["brawl", "Brawl", "Matt's game", "say \"hi\"", r"back\slash", "5", "-3", "", "a AND b"];
const KEYS: &[&str] = &["gameMode", "level", "a.b", "Mode"];
const NUMBERS: &[i64] = &[-1, 0, 1, 2, 3, 5, 8, 1_700_000_000_000, 1_700_000_000_001];

fn arb_session() -> impl Strategy<Value = GameSession> {
    (
        proptest::option::of(select(TEXTS)),
        proptest::option::of(select(TEXTS)),
        proptest::option::of(0..6i32),
        proptest::option::of(0..6i32),
        proptest::option::of(select(NUMBERS)),
        proptest::collection::vec((select(KEYS), select(TEXTS)), 0..4),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(id, name, current, maximum, created, props, accept)| GameSession {
            game_session_id: id.map(str::to_string),
            name: name.map(str::to_string),
            current_player_session_count: current,
            maximum_player_session_count: maximum,
            creation_time: created.map(Timestamp::from_millis),
            player_session_creation_policy: accept.map(|accept| {
                if accept { PlayerSessionCreationPolicy::AcceptAll } else { PlayerSessionCreationPolicy::DenyAll }
            }),
            game_properties: Some(
                props.into_iter().map(|(k, v)| GameProperty { key: k.to_string(), value: v.to_string() }).collect(),
            ),
            ..GameSession::default()
        })
}

fn arb_operand() -> impl Strategy<Value = Operand> {
    prop_oneof![
        Just(Operand::GameSessionId),
        Just(Operand::GameSessionName),
        select(KEYS).prop_map(prop),
        Just(Operand::MaximumSessions),
        Just(Operand::CreationTimeMillis),
        Just(Operand::PlayerSessionCount),
        Just(Operand::HasAvailablePlayerSessions),
    ]
}

const ALL_COMPARATORS: &[Comparator] =
    &[Comparator::Eq, Comparator::Ne, Comparator::Lt, Comparator::Gt, Comparator::Le, Comparator::Ge];

fn arb_condition() -> impl Strategy<Value = Filter> {
    (arb_operand(), select(ALL_COMPARATORS), select(TEXTS), select(NUMBERS), any::<bool>()).prop_map(
        |(operand, comparator, s, n, b)| {
            let equality = if matches!(comparator, Comparator::Eq | Comparator::Lt | Comparator::Le) {
                Comparator::Eq
            } else {
                Comparator::Ne
            };
            let (comparator, literal) = match operand.kind() {
                Kind::Text => (equality, text(s)),
                Kind::Number => (comparator, Literal::Number(n)),
                Kind::Bool => (equality, Literal::Bool(b)),
            };
            cond(operand, comparator, literal)
        },
    )
}

fn arb_filter() -> impl Strategy<Value = Filter> {
    arb_condition().prop_recursive(5, 40, 4, |inner| {
        prop_oneof![
            inner.clone().prop_map(|f| Filter::Not(Box::new(f))),
            proptest::collection::vec(inner.clone(), 2..4).prop_map(Filter::And),
            proptest::collection::vec(inner, 2..4).prop_map(Filter::Or),
        ]
    })
}

fn reference(filter: &Filter, s: &GameSession) -> bool {
    match filter {
        Filter::Not(inner) => !reference(inner, s),
        Filter::And(terms) => terms.iter().all(|t| reference(t, s)),
        Filter::Or(terms) => terms.iter().any(|t| reference(t, s)),
        Filter::Condition(Condition { operand, comparator, literal }) => {
            let ordering = match (operand, literal) {
                (Operand::GameSessionId, Literal::Text(v)) => s.game_session_id.as_ref().map(|x| x.cmp(v)),
                (Operand::GameSessionName, Literal::Text(v)) => s.name.as_ref().map(|x| x.cmp(v)),
                (Operand::GameSessionProperty(key), Literal::Text(v)) => {
                    s.game_properties.iter().flatten().find(|p| &p.key == key).map(|p| p.value.cmp(v))
                }
                (Operand::MaximumSessions, Literal::Number(v)) => {
                    s.maximum_player_session_count.map(|x| i64::from(x).cmp(v))
                }
                (Operand::PlayerSessionCount, Literal::Number(v)) => {
                    s.current_player_session_count.map(|x| i64::from(x).cmp(v))
                }
                (Operand::CreationTimeMillis, Literal::Number(v)) => s.creation_time.map(|t| t.as_millis().cmp(v)),
                (Operand::HasAvailablePlayerSessions, Literal::Bool(v)) => {
                    let slots =
                        s.current_player_session_count.unwrap_or(0) < s.maximum_player_session_count.unwrap_or(0);
                    let open = s.player_session_creation_policy != Some(PlayerSessionCreationPolicy::DenyAll);
                    Some((slots && open).cmp(v))
                }
                _ => unreachable!("generator pairs operands with literals of their kind"),
            };
            match (ordering, comparator) {
                (None, Comparator::Ne) => true,
                (None, _) => false,
                (Some(o), Comparator::Eq) => o == Ordering::Equal,
                (Some(o), Comparator::Ne) => o != Ordering::Equal,
                (Some(o), Comparator::Lt) => o == Ordering::Less,
                (Some(o), Comparator::Gt) => o == Ordering::Greater,
                (Some(o), Comparator::Le) => o != Ordering::Greater,
                (Some(o), Comparator::Ge) => o != Ordering::Less,
            }
        }
    }
}

/// Prints a filter as text a client might send, making random but meaning-preserving choices.
struct Printer {
    state: u64,
    /// Tokens with whether they are word-like (two word-like tokens need whitespace between).
    tokens: Vec<(String, bool)>,
}

impl Printer {
    fn random(&mut self) -> u64 {
        // splitmix64
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn one_in(&mut self, n: u64) -> bool {
        self.random().is_multiple_of(n)
    }

    fn recase(&mut self, word: &str) -> String {
        word.chars()
            .map(|c| {
                if self.one_in(3) {
                    c.to_ascii_uppercase()
                } else if self.one_in(2) {
                    c.to_ascii_lowercase()
                } else {
                    c
                }
            })
            .collect()
    }

    fn word(&mut self, word: &str) {
        let word = self.recase(word);
        self.tokens.push((word, true));
    }

    fn symbol(&mut self, symbol: String) {
        self.tokens.push((symbol, false));
    }

    fn quoted(&mut self, value: &str) {
        let quote = if self.one_in(2) { '\'' } else { '"' };
        let mut out = String::from(quote);
        for c in value.chars() {
            if c == quote || c == '\\' || self.one_in(8) {
                out.push('\\');
            }
            out.push(c);
        }
        out.push(quote);
        self.symbol(out);
    }

    fn filter(&mut self, filter: &Filter, needs_parens: bool) {
        let parens = needs_parens || self.one_in(5);
        if parens {
            self.symbol("(".into());
        }
        match filter {
            Filter::Condition(Condition { operand, comparator, literal }) => {
                match operand {
                    Operand::GameSessionProperty(key) => {
                        let head = self.recase("gameSessionProperties");
                        self.tokens.push((format!("{head}.{key}"), true));
                    }
                    other => self.word(&other.to_string()),
                }
                self.symbol(comparator.to_string());
                match literal {
                    Literal::Text(v)
                        if matches!(operand, Operand::GameSessionProperty(_)) && is_number(v) && self.one_in(2) =>
                    {
                        self.word(v)
                    }
                    Literal::Text(v) => self.quoted(v),
                    Literal::Number(n) => self.word(&n.to_string()),
                    Literal::Bool(b) => self.word(&b.to_string()),
                }
            }
            Filter::Not(inner) => {
                self.word("NOT");
                self.filter(inner, matches!(**inner, Filter::And(_) | Filter::Or(_)));
            }
            Filter::And(terms) | Filter::Or(terms) => {
                let (keyword, is_and) = if matches!(filter, Filter::And(_)) { ("AND", true) } else { ("OR", false) };
                for (i, term) in terms.iter().enumerate() {
                    if i > 0 {
                        self.word(keyword);
                    }
                    // Inside AND, a nested AND or OR needs parentheses; inside OR only a nested OR.
                    let needs = matches!(term, Filter::Or(_)) || (is_and && matches!(term, Filter::And(_)));
                    self.filter(term, needs);
                }
            }
        }
        if parens {
            self.symbol(")".into());
        }
    }

    fn finish(mut self) -> String {
        let tokens = std::mem::take(&mut self.tokens);
        let mut out = String::new();
        let mut previous_wordy = false;
        for (i, (token, wordy)) in tokens.into_iter().enumerate() {
            let minimum = u64::from(i > 0 && previous_wordy && wordy);
            let spaces = minimum + self.random() % 3;
            for _ in 0..spaces {
                out.push([' ', '\t', '\n'][(self.random() % 3) as usize]);
            }
            out.push_str(&token);
            previous_wordy = wordy;
        }
        out
    }
}

fn is_number(v: &str) -> bool {
    v.parse::<i64>().is_ok()
}

fn print(filter: &Filter, seed: u64) -> String {
    let mut printer = Printer { state: seed, tokens: Vec::new() };
    printer.filter(filter, false);
    printer.finish()
}

proptest! {
    #[test]
    fn printed_filters_parse_back_and_match_like_the_reference(
        filter in arb_filter(),
        sessions in proptest::collection::vec(arb_session(), 1..6),
        seed in any::<u64>(),
    ) {
        let text = print(&filter, seed);
        let parsed = parse_filter(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        prop_assert_eq!(&parsed, &filter, "text: {:?}", text);
        for s in &sessions {
            prop_assert_eq!(parsed.matches(s), reference(&filter, s), "text: {:?}, session: {:?}", text, s);
        }
    }

    #[test]
    fn sorting_orders_present_values_and_puts_missing_ones_last(
        operand in arb_operand(),
        descending in any::<bool>(),
        mut sessions in proptest::collection::vec(arb_session(), 0..12),
    ) {
        let order = if descending { SortOrder::Descending } else { SortOrder::Ascending };
        let sort = Sort { operand: operand.clone(), order };
        sessions.sort_by(|a, b| sort.compare(a, b));
        let key = |s: &GameSession| -> Option<String> {
            // Zero-padded so that text order is numeric order for the small values generated.
            let pad = |n: i64| format!("{:020}", n + 10);
            match &operand {
                Operand::GameSessionId => s.game_session_id.clone(),
                Operand::GameSessionName => s.name.clone(),
                Operand::GameSessionProperty(k) => {
                    s.game_properties.iter().flatten().find(|p| &p.key == k).map(|p| p.value.clone())
                }
                Operand::MaximumSessions => s.maximum_player_session_count.map(|n| pad(n.into())),
                Operand::PlayerSessionCount => s.current_player_session_count.map(|n| pad(n.into())),
                Operand::CreationTimeMillis => s.creation_time.map(|t| pad(t.as_millis())),
                Operand::HasAvailablePlayerSessions => Some(
                    (s.current_player_session_count.unwrap_or(0) < s.maximum_player_session_count.unwrap_or(0)
                        && s.player_session_creation_policy != Some(PlayerSessionCreationPolicy::DenyAll))
                    .to_string(),
                ),
            }
        };
        for pair in sessions.windows(2) {
            match (key(&pair[0]), key(&pair[1])) {
                (Some(x), Some(y)) => prop_assert!(if descending { x >= y } else { x <= y }, "{x:?} then {y:?}"),
                (None, Some(_)) => prop_assert!(false, "a session lacking the value came first"),
                _ => {}
            }
        }
    }
}
