//! awsJson 1.1 and RPC v2 CBOR codecs: golden bytes, round trips and hostile input.

use openlift_model::{ErrorCode, Timestamp, Value};
use openlift_protocol::{MAX_DEPTH, cbor, json};
use proptest::prelude::*;

fn map(members: &[(&str, Value)]) -> Value {
    Value::Map(members.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn is_serialization_error<T: std::fmt::Debug>(result: Result<T, openlift_model::ApiError>) -> bool {
    matches!(result, Err(e) if e.code == ErrorCode::SerializationException)
}

#[test]
fn json_decodes_the_captured_boto_request() {
    let body = br#"{"FleetId": "fleet-123", "MaximumPlayerSessionCount": 4, "GameProperties": [{"Key": "k", "Value": "v"}], "StartTime": 1704067200.123456, "Big": 18446744073709551615, "N": null}"#;
    let value = json::decode(body).unwrap();
    assert_eq!(value.get("FleetId"), Some(&Value::String("fleet-123".into())));
    assert_eq!(value.get("MaximumPlayerSessionCount"), Some(&Value::Integer(4)));
    assert_eq!(value.get("StartTime"), Some(&Value::Float(1704067200.123456)));
    assert_eq!(value.get("Big"), Some(&Value::Float(18446744073709551615.0)));
    assert_eq!(value.get("N"), Some(&Value::Null));
    let props = Value::List(vec![map(&[("Key", Value::String("k".into())), ("Value", Value::String("v".into()))])]);
    assert_eq!(value.get("GameProperties"), Some(&props));
}

#[test]
fn json_empty_body_is_an_empty_map_and_duplicate_keys_keep_the_last_value() {
    assert_eq!(json::decode(b"").unwrap(), Value::Map(vec![]));
    assert_eq!(json::decode(b" \n").unwrap(), Value::Map(vec![]));
    assert_eq!(
        json::decode(br#"{"a":1,"b":2,"a":3}"#).unwrap(),
        map(&[("a", Value::Integer(3)), ("b", Value::Integer(2))])
    );
}

#[test]
fn json_rejects_malformed_and_non_object_bodies() {
    for body in [&b"[1]"[..], b"\"x\"", b"12", b"null", b"{", b"{\"a\":1}x", b"{\"a\":\"\xff\"}", b"{'a':1}"] {
        assert!(is_serialization_error(json::decode(body)), "{:?}", String::from_utf8_lossy(body));
    }
}

#[test]
fn json_nesting_is_limited_without_overflowing_the_stack() {
    let ok = format!("{}{}", "[".repeat(MAX_DEPTH - 1), "]".repeat(MAX_DEPTH - 1));
    assert!(json::decode(format!("{{\"a\":{ok}}}").as_bytes()).is_ok());
    let deep = format!("{{\"a\":{}{}}}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
    assert!(is_serialization_error(json::decode(deep.as_bytes())));
    let hostile = format!("{{\"a\":{}", "[".repeat(1_000_000));
    assert!(is_serialization_error(json::decode(hostile.as_bytes())));
}

#[test]
fn json_encodes_timestamps_blobs_and_absent_members_like_aws() {
    let value = map(&[
        ("CreationTime", Value::Timestamp(Timestamp::from_millis(1_568_836_191_995))),
        ("EndTime", Value::Timestamp(Timestamp::from_millis(1_700_000_000_000))),
        ("Data", Value::Blob(b"hi!".to_vec())),
        ("Gone", Value::Null),
        ("Ratio", Value::Float(1.5)),
        ("Whole", Value::Float(2.0)),
        ("Nan", Value::Float(f64::NAN)),
        ("Inf", Value::Float(f64::NEG_INFINITY)),
        ("List", Value::List(vec![Value::Bool(true), Value::Integer(-7), Value::String("é\"".into())])),
    ]);
    let expected = r#"{"CreationTime":1568836191.995,"EndTime":1700000000,"Data":"aGkh","Ratio":1.5,"Whole":2.0,"Nan":"NaN","Inf":"-Infinity","List":[true,-7,"é\""]}"#;
    assert_eq!(String::from_utf8(json::encode(&value)).unwrap(), expected);
}

#[test]
fn cbor_encodes_timestamps_with_tag_1() {
    let whole = Value::Timestamp(Timestamp::from_millis(1_700_000_000_000));
    assert_eq!(cbor::encode(&whole), [0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00]);
    let fraction = Value::Timestamp(Timestamp::from_millis(1_568_836_191_995));
    assert_eq!(cbor::encode(&fraction), [0xc1, 0xfb, 0x41, 0xd7, 0x60, 0xa2, 0x97, 0xff, 0xae, 0x14]);
    assert_eq!(cbor::encode(&Value::Timestamp(Timestamp::from_millis(-1000))), [0xc1, 0x20]);
}

#[test]
fn cbor_encodes_shortest_heads_and_omits_null_members() {
    let value = map(&[
        ("a", Value::Integer(1)),
        ("b", Value::Integer(-500)),
        ("c", Value::Blob(vec![1, 2])),
        ("d", Value::Null),
        ("e", Value::List(vec![Value::Bool(false), Value::Float(1.5)])),
        ("f", Value::Integer(i64::MIN)),
    ]);
    let expected = [
        &[0xa5, 0x61, b'a', 0x01, 0x61, b'b', 0x39, 0x01, 0xf3, 0x61, b'c', 0x42, 0x01, 0x02][..],
        &[0x61, b'e', 0x82, 0xf4, 0xfb, 0x3f, 0xf8, 0, 0, 0, 0, 0, 0],
        &[0x61, b'f', 0x3b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
    ]
    .concat();
    assert_eq!(cbor::encode(&value), expected);
}

#[test]
fn cbor_decodes_indefinite_lengths_tags_and_all_float_widths() {
    let body = [
        &[0xbf][..],
        &[0x61, b'a', 0x5f, 0x41, 0x01, 0x42, 0x02, 0x03, 0xff],
        &[0x61, b'b', 0x7f, 0x62, b'h', b'e', 0x63, b'l', b'l', b'o', 0xff],
        &[0x61, b'c', 0x9f, 0xf9, 0x3e, 0x00, 0xfa, 0x3f, 0xc0, 0x00, 0x00, 0xf7, 0xf6, 0xff],
        &[0x61, b't', 0xc1, 0x1a, 0x65, 0x53, 0xf1, 0x00],
        &[0x61, b'u', 0xc1, 0xfb, 0x41, 0xd7, 0x60, 0xa2, 0x97, 0xff, 0xae, 0x14],
        &[0x61, b'n', 0x3b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
        &[0x61, b's', 0xd9, 0xd9, 0xf7, 0x18, 0x2a],
        &[0xff],
    ]
    .concat();
    let expected = map(&[
        ("a", Value::Blob(vec![1, 2, 3])),
        ("b", Value::String("hello".into())),
        ("c", Value::List(vec![Value::Float(1.5), Value::Float(1.5), Value::Null, Value::Null])),
        ("t", Value::Timestamp(Timestamp::from_millis(1_700_000_000_000))),
        ("u", Value::Timestamp(Timestamp::from_millis(1_568_836_191_995))),
        ("n", Value::Float(-18446744073709551616.0)),
        ("s", Value::Integer(42)),
    ]);
    assert_eq!(cbor::decode(&body).unwrap(), expected);
    assert_eq!(cbor::decode(b"").unwrap(), Value::Map(vec![]));
}

#[test]
fn cbor_rejects_hostile_and_malformed_input() {
    let cases: &[&[u8]] = &[
        &[0x81, 0x01],                                                                   // top level is a list
        &[0xa1, 0x61],                                                                   // truncated key
        &[0xa1, 0x61, b'a'],                                                             // missing value
        &[0xa1, 0x61, b'a', 0x01, 0x00],                                                 // trailing bytes
        &[0xa1, 0x01, 0x01],                                                             // integer key
        &[0xbb, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],                         // map of 2^64-1 entries
        &[0xa1, 0x61, b'a', 0x9b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],       // giant array
        &[0xa1, 0x61, b'a', 0x5b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff],       // giant byte string
        &[0xa1, 0x61, b'a', 0x62, 0xc3, 0x28],                                           // invalid UTF-8
        &[0xa1, 0x61, b'a', 0x7f, 0x61, 0xc3, 0x61, 0xa9, 0xff],                         // UTF-8 split across chunks
        &[0xa1, 0x61, b'a', 0x5f, 0x61, b'x', 0xff],                                     // text chunk in a byte string
        &[0xa1, 0x61, b'a', 0x9f, 0x01],       // unterminated indefinite array
        &[0xa1, 0x61, b'a', 0xff],             // stray break
        &[0xa1, 0x61, b'a', 0x1c],             // reserved additional information
        &[0xa1, 0x61, b'a', 0xc1, 0x61, b'x'], // tag 1 around text
        &[0xa1, 0x61, b'a', 0xc1, 0x1b, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff], // out-of-range time
        &[0xa1, 0x61, b'a', 0xf8, 0x20],       // unsupported simple value
        &[0xa1, 0x61, b'a', 0x1f],             // indefinite integer
    ];
    for body in cases {
        assert!(is_serialization_error(cbor::decode(body)), "{body:02x?}");
    }
}

#[test]
fn cbor_nesting_is_limited_for_containers_and_tags() {
    let nested = |depth: usize, open: u8| {
        let mut body = vec![0xa1, 0x61, b'a'];
        body.extend(std::iter::repeat_n(open, depth));
        body.push(0x01);
        body
    };
    assert!(cbor::decode(&nested(MAX_DEPTH - 1, 0x81)).is_ok());
    assert!(is_serialization_error(cbor::decode(&nested(MAX_DEPTH, 0x81))));
    assert!(is_serialization_error(cbor::decode(&nested(100_000, 0x81))));
    assert!(is_serialization_error(cbor::decode(&nested(100_000, 0xc2))));
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::Integer),
        (-1e300f64..1e300).prop_map(Value::Float),
        ".{0,12}".prop_map(Value::String),
        (-100_000_000_000_000i64..100_000_000_000_000).prop_map(|ms| Value::Timestamp(Timestamp::from_millis(ms))),
        proptest::collection::vec(any::<u8>(), 0..12).prop_map(Value::Blob),
    ]
}

fn tree() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            proptest::collection::btree_map("[A-Za-z]{1,8}", inner, 0..6)
                .prop_map(|m| Value::Map(m.into_iter().collect())),
        ]
    })
}

fn to_ciborium(value: &Value) -> ciborium::Value {
    use ciborium::Value as C;
    match value {
        Value::Null => C::Null,
        Value::Bool(b) => C::Bool(*b),
        Value::Integer(i) => C::Integer((*i).into()),
        Value::Float(f) => C::Float(*f),
        Value::String(s) => C::Text(s.clone()),
        Value::Timestamp(t) if t.as_millis().rem_euclid(1000) == 0 => {
            C::Tag(1, Box::new(C::Integer(t.as_secs().into())))
        }
        Value::Timestamp(t) => C::Tag(1, Box::new(C::Float(t.as_secs_f64()))),
        Value::Blob(b) => C::Bytes(b.clone()),
        Value::List(items) => C::Array(items.iter().map(to_ciborium).collect()),
        Value::Map(members) => C::Map(members.iter().map(|(k, v)| (C::Text(k.clone()), to_ciborium(v))).collect()),
    }
}

proptest! {
    #[test]
    fn cbor_round_trips_and_matches_ciborium(members in proptest::collection::btree_map("[A-Za-z]{1,8}", tree(), 0..6)) {
        let value = Value::Map(members.into_iter().collect());
        let ours = cbor::encode(&value);
        prop_assert_eq!(cbor::decode(&ours).unwrap(), value.clone());
        let theirs: ciborium::Value = ciborium::from_reader(&ours[..]).unwrap();
        prop_assert_eq!(&theirs, &to_ciborium(&value));
        let mut written = Vec::new();
        ciborium::into_writer(&to_ciborium(&value), &mut written).unwrap();
        prop_assert_eq!(cbor::decode(&written).unwrap(), value);
    }

    #[test]
    fn json_round_trips_values_without_timestamps_or_blobs(members in proptest::collection::btree_map("[A-Za-z]{1,8}", tree(), 0..6)) {
        let value = Value::Map(members.into_iter().collect());
        let text = json::encode(&value);
        let back = json::decode(&text).unwrap();
        prop_assert_eq!(json::encode(&back), text);
    }

    #[test]
    fn cbor_decoding_arbitrary_bytes_never_panics(body in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = cbor::decode(&body);
    }
}
