//! The generated shapes decode, validate and encode as the model says.

use openlift_model::{
    ComputeType, CreateFleetInput, DescribeFleetAttributesInput, ErrorCode, Operation, RegisterComputeInput, Shape,
    Value,
};

fn map(members: &[(&str, Value)]) -> Value {
    Value::Map(members.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect())
}

fn s(text: &str) -> Value {
    Value::String(text.to_owned())
}

#[test]
fn missing_required_member_is_named_in_lower_camel_case() {
    let err = CreateFleetInput::from_value(map(&[])).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequestException);
    assert_eq!(
        err.message,
        "1 validation error detected: Value null at 'name' failed to satisfy constraint: Member must not be null"
    );
}

#[test]
fn unknown_enum_value_lists_the_allowed_values() {
    let err = CreateFleetInput::from_value(map(&[("Name", s("f")), ("ComputeType", s("LAPTOP"))])).unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequestException);
    assert!(err.message.contains("Value 'LAPTOP' at 'computeType'"), "{}", err.message);
    assert!(err.message.contains("Member must satisfy enum value set: [EC2, ANYWHERE"), "{}", err.message);
}

#[test]
fn every_violation_is_reported_at_once() {
    let input = map(&[("FleetId", s("not a fleet")), ("ComputeName", s("")), ("IpAddress", s("zz"))]);
    let err = RegisterComputeInput::from_value(input).unwrap_err();
    assert!(err.message.starts_with("4 validation errors detected"), "{}", err.message);
    assert!(err.message.contains("at 'fleetId' failed to satisfy constraint: Member must satisfy regular expression"));
    assert!(err.message.contains("at 'computeName' failed to satisfy constraint: Member must have length"));
}

#[test]
fn list_members_are_numbered_from_one() {
    let ids = Value::List(vec![s("fleet-1"), s("bad id")]);
    let err = DescribeFleetAttributesInput::from_value(map(&[("FleetIds", ids)])).unwrap_err();
    assert!(err.message.contains("at 'fleetIds.2.member'"), "{}", err.message);
}

#[test]
fn wrong_type_is_a_serialization_error() {
    let err = CreateFleetInput::from_value(map(&[("Name", Value::Integer(5))])).unwrap_err();
    assert_eq!(err.code, ErrorCode::SerializationException);
    assert!(err.message.contains("'name'"), "{}", err.message);
}

#[test]
fn unknown_members_and_nulls_are_ignored_and_values_round_trip() {
    let input = map(&[
        ("Name", s("arena")),
        ("ComputeType", s("ANYWHERE")),
        ("Description", Value::Null),
        ("SomethingNew", Value::Bool(true)),
    ]);
    let decoded = CreateFleetInput::from_value(input).unwrap();
    assert_eq!(decoded.name, "arena");
    assert_eq!(decoded.compute_type, Some(ComputeType::Anywhere));
    assert_eq!(decoded.description, None);
    assert_eq!(decoded.to_value(), map(&[("Name", s("arena")), ("ComputeType", s("ANYWHERE"))]));
}

#[test]
fn the_operation_list_covers_the_whole_model() {
    assert_eq!(Operation::ALL.len(), 120);
    for op in Operation::ALL {
        assert_eq!(Operation::from_name(op.name()), Some(*op));
    }
    assert_eq!(Operation::from_name("MakeCoffee"), None);
    assert!(Operation::CreateGameSession.errors().contains(&ErrorCode::FleetCapacityExceededException));
}
