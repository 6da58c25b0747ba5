//! One fuzz target per parser that reads untrusted bytes. Each is a `fn(&[u8])` that must
//! not panic, and asserts a round-trip or consistency property where one exists.

use std::collections::HashMap;
use std::sync::LazyLock;
use std::time::SystemTime;

use openlift_core::search::{parse_filter, parse_sort};
use openlift_model::*;
use openlift_protocol::sigv4::{Credential, SecretKey, parse_amz_date, parse_authorization, verify};
use openlift_protocol::{cbor, json};

/// A parser under test.
#[derive(Debug)]
pub struct Target {
    /// Its name on the command line and its corpus directory (`corpus/<name>`).
    pub name: &'static str,
    /// What it feeds the input to.
    pub about: &'static str,
    /// Runs one input; a panic is a finding.
    pub run: fn(&[u8]),
    /// Tokens the mutator inserts, beyond its generic boundary values.
    pub dictionary: &'static [&'static [u8]],
}

const JSON_TOKENS: &[&[u8]] =
    &[b"null", b"true", b"\"\"", b"{}", b"[]", b"\\u0000", b"\\ud800", b"\\\"", b"\"Action\"", b"\"RequestId\""];

/// Every target, in the order `all` runs them.
pub const TARGETS: &[Target] = &[
    Target {
        name: "awsjson",
        about: "awsJson 1.1 body decoding, then every implemented operation's input shape",
        run: awsjson,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "cbor",
        about: "RPC v2 CBOR body decoding, then every implemented operation's input shape",
        run: rpc_v2_cbor,
        dictionary: &[b"\xc1", b"\xbf", b"\x9f", b"\xff", b"\xf9\x7c\x00", b"\xfb\x7f\xf8\0\0\0\0\0\0", b"\x1b"],
    },
    Target {
        name: "sigv4",
        about: "SigV4 Authorization header parsing and request verification",
        run: sigv4,
        dictionary: &[b"AWS4-HMAC-SHA256", b"Credential=", b"SignedHeaders=", b"Signature=", b"/aws4_request", b", "],
    },
    Target {
        name: "search",
        about: "SearchGameSessions FilterExpression and SortExpression grammar, evaluated on sessions",
        run: search,
        dictionary: &[b" AND ", b" OR ", b"NOT ", b"(", b")", b"'", b"\\", b"<>", b">=", b"gameSessionProperties."],
    },
    Target {
        name: "server-frames",
        about: "the SDK and agent endpoints' frame parser and reply renderer (crates/server)",
        run: server_frames,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "sdk-frames",
        about: "the Rust server SDK's reader of frames from the service (crates/sdk)",
        run: sdk_frames,
        dictionary: JSON_TOKENS,
    },
    Target {
        name: "agent-frames",
        about: "the host agent's reader of frames from its endpoint (crates/agent)",
        run: agent_frames,
        dictionary: JSON_TOKENS,
    },
];

/// The target called `name`.
pub fn target(name: &str) -> Option<&'static Target> {
    TARGETS.iter().find(|t| t.name == name)
}

/// A codec: how a body is read and written.
struct Codec {
    decode: fn(&[u8]) -> Result<Value, ApiError>,
    encode: fn(&Value) -> Vec<u8>,
}

const AWS_JSON: Codec = Codec { decode: json::decode, encode: json::encode };
const CBOR: Codec = Codec { decode: cbor::decode, encode: cbor::encode };

fn awsjson(data: &[u8]) {
    body(data, &AWS_JSON);
}

fn rpc_v2_cbor(data: &[u8]) {
    body(data, &CBOR);
}

/// A body that decodes re-reads from its own encoding, which then stays the same; each
/// input shape that accepts it survives a trip through the codec unchanged.
fn body(data: &[u8], codec: &Codec) {
    let Ok(value) = (codec.decode)(data) else { return };
    let encoded = (codec.encode)(&value);
    let again = (codec.decode)(&encoded).unwrap_or_else(|e| panic!("its own encoding does not decode: {e:?}"));
    assert_eq!((codec.encode)(&again), encoded, "the encoding changed on a second trip");
    inputs(&value, codec);
}

/// `value` as `S`; if valid, `S` encoded, decoded and validated again encodes the same.
fn shape<S: Shape>(name: &str, value: &Value, codec: &Codec) {
    let Ok(decoded) = S::from_value(value.clone()) else { return };
    let wire = (codec.encode)(&decoded.to_value());
    let reread = (codec.decode)(&wire).unwrap_or_else(|e| panic!("{name}: its encoding does not decode: {e:?}"));
    let again = S::from_value(reread).unwrap_or_else(|e| panic!("{name}: its encoding is refused: {e:?}"));
    assert_eq!((codec.encode)(&again.to_value()), wire, "{name}: changed by a trip through the codec");
}

macro_rules! inputs {
    ($($shape:ident),* $(,)?) => {
        /// Tries `value` as the input of every operation openlift implements.
        fn inputs(value: &Value, codec: &Codec) {
            $(shape::<$shape>(stringify!($shape), value, codec);)*
        }
    };
}

inputs!(
    CreateLocationInput,
    ListLocationsInput,
    DeleteLocationInput,
    CreateFleetInput,
    DescribeFleetAttributesInput,
    ListFleetsInput,
    UpdateFleetAttributesInput,
    DeleteFleetInput,
    UpdateRuntimeConfigurationInput,
    DescribeRuntimeConfigurationInput,
    DescribeFleetEventsInput,
    DescribeFleetCapacityInput,
    DescribeFleetUtilizationInput,
    DescribeFleetLocationCapacityInput,
    DescribeFleetLocationUtilizationInput,
    CreateFleetLocationsInput,
    DeleteFleetLocationsInput,
    DescribeFleetLocationAttributesInput,
    RegisterComputeInput,
    DeregisterComputeInput,
    DescribeComputeInput,
    ListComputeInput,
    GetComputeAuthTokenInput,
    CreateAliasInput,
    DescribeAliasInput,
    ListAliasesInput,
    UpdateAliasInput,
    DeleteAliasInput,
    ResolveAliasInput,
    CreateGameSessionInput,
    DescribeGameSessionsInput,
    DescribeGameSessionDetailsInput,
    SearchGameSessionsInput,
    UpdateGameSessionInput,
    TerminateGameSessionInput,
    GetGameSessionLogUrlInput,
    CreatePlayerSessionInput,
    CreatePlayerSessionsInput,
    DescribePlayerSessionsInput,
    TagResourceRequest,
    UntagResourceRequest,
    ListTagsForResourceRequest,
);

/// The access key the SigV4 seeds are signed with.
pub const SIGV4_ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
/// Its secret (the published SigV4 test-suite secret).
const SIGV4_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
/// When the SigV4 seeds were signed.
const SIGV4_DATE: &str = "20150830T123600Z";

/// Verifies a request written as text: `METHOD target`, then `name:value` header lines, an
/// empty line and the body; Region `us-east-1`, service `gamelift`, at the seeds' signing
/// time. `None` when the text does not make an HTTP request at all.
pub fn verify_text(data: &[u8]) -> Option<Result<String, ApiError>> {
    let split = data.windows(2).position(|w| w == b"\n\n");
    let (head, body) = match split {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let head = String::from_utf8_lossy(head);
    let mut lines = head.lines();
    let (method, target) = lines.next()?.split_once(' ')?;
    let mut builder = http::Request::builder().method(method).uri(target);
    for line in lines {
        let (name, value) = line.split_once(':')?;
        builder = builder.header(name, value);
    }
    let (parts, ()) = builder.body(()).ok()?.into_parts();
    let credentials: HashMap<String, Credential> =
        HashMap::from([(SIGV4_ACCESS_KEY_ID.to_owned(), Credential::long_term(SecretKey::new(SIGV4_SECRET)))]);
    let now: SystemTime = parse_amz_date(SIGV4_DATE)?;
    Some(verify(&parts, body, &credentials, "us-east-1", "gamelift", now))
}

fn sigv4(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    for value in text.lines().filter_map(|line| line.strip_prefix("authorization:")) {
        if let Ok(parsed) = parse_authorization(value) {
            assert!(!parsed.access_key_id.contains('/'), "{parsed:?}");
        }
    }
    if let Some(Ok(access_key_id)) = verify_text(data) {
        assert_eq!(access_key_id, SIGV4_ACCESS_KEY_ID);
    }
}

/// Sessions to evaluate parsed filters and sorts on: named and unnamed, full and open,
/// with and without properties.
static SESSIONS: LazyLock<Vec<GameSession>> = LazyLock::new(|| {
    let property = |key: &str, value: &str| GameProperty { key: key.to_owned(), value: value.to_owned() };
    let open = GameSession {
        game_session_id: Some("arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1".to_owned()),
        name: Some("My Game".to_owned()),
        current_player_session_count: Some(3),
        maximum_player_session_count: Some(12),
        creation_time: Some(Timestamp::from_millis(1_000)),
        status: Some(GameSessionStatus::Active),
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::AcceptAll),
        game_properties: Some(vec![property("mode", "ranked"), property("level", "5")]),
        ..GameSession::default()
    };
    let full = GameSession {
        name: Some("Matt's Awesome Game 1".to_owned()),
        current_player_session_count: Some(12),
        creation_time: Some(Timestamp::from_millis(i64::MAX)),
        player_session_creation_policy: Some(PlayerSessionCreationPolicy::DenyAll),
        game_properties: Some(vec![property("mode", "Ranked"), property("a.b", "x")]),
        ..open.clone()
    };
    let at_the_limits = GameSession {
        name: None,
        current_player_session_count: Some(i32::MAX),
        maximum_player_session_count: Some(i32::MAX),
        creation_time: Some(Timestamp::from_millis(i64::MIN)),
        game_properties: None,
        ..open.clone()
    };
    vec![open, full, at_the_limits, GameSession::default()]
});

/// A filter evaluates on every session; a sort is a consistent order (`a < b` exactly
/// when `b > a`, and every session equals itself).
fn search(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    if let Ok(filter) = parse_filter(&text) {
        for session in SESSIONS.iter() {
            assert_eq!(filter.matches(session), filter.matches(session));
        }
    }
    if let Ok(sort) = parse_sort(&text) {
        for a in SESSIONS.iter() {
            assert_eq!(sort.compare(a, a), std::cmp::Ordering::Equal);
            for b in SESSIONS.iter() {
                assert_eq!(sort.compare(a, b), sort.compare(b, a).reverse(), "{sort:?}");
            }
        }
    }
}

/// An answerable frame gets a JSON 400 reply, and that reply, read as a frame, is answered
/// with the same `Action` and `RequestId`.
fn server_frames(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Some(reply) = openlift_server::sdk::refuse_frame(text) else { return };
    let first: serde_json::Value = serde_json::from_str(&reply).expect("the reply is JSON");
    assert_eq!(first["StatusCode"], 400, "{reply}");
    let echoed = openlift_server::sdk::refuse_frame(&reply).expect("a reply has a RequestId");
    let second: serde_json::Value = serde_json::from_str(&echoed).expect("the reply is JSON");
    assert_eq!((&second["Action"], &second["RequestId"]), (&first["Action"], &first["RequestId"]));
}

fn sdk_frames(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _routable = openlift_server_sdk::route_frame(text);
}

/// A push is handed over under the `Action` its frame carries.
fn agent_frames(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(push) = openlift_agent::link::push_of(text) {
        assert_eq!(push.body.get("Action").and_then(serde_json::Value::as_str), Some(push.action.as_str()));
    }
}
