//! Golden JSON tests for the wire messages of protocol spec §3 and §4.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::{Inbound, Push, RefreshConnection, Request, ServiceFailure, decode};
use crate::model::{
    AttributeValue, DescribePlayerSessionsRequest, DescribePlayerSessionsResult, GetFleetRoleCredentialsRequest,
    Player, PlayerSessionCreationPolicy, PlayerSessionStatus, StartMatchBackfillRequest, StopMatchBackfillRequest,
    UpdateReason,
};

const GSESS: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9";

fn encoded(request: &Request) -> Value {
    serde_json::from_str(&request.encode("r1").unwrap()).unwrap()
}

#[test]
fn activate_server_process_has_the_spec_fields() {
    let request = Request::ActivateServerProcess {
        sdk_version: "5.6.0",
        sdk_language: "Rust",
        sdk_tool_name: None,
        sdk_tool_version: None,
        port: 7777,
        log_paths: vec!["/local/game/logs".into()],
    };
    assert_eq!(request.action(), "ActivateServerProcess");
    assert_eq!(
        encoded(&request),
        json!({"Action":"ActivateServerProcess","RequestId":"r1","SdkVersion":"5.6.0",
               "SdkLanguage":"Rust","Port":7777,"LogPaths":["/local/game/logs"]})
    );
}

#[test]
fn activate_server_process_carries_tool_name_and_version_when_set() {
    let request = Request::ActivateServerProcess {
        sdk_version: "5.6.0",
        sdk_language: "Rust",
        sdk_tool_name: Some("GameServerWrapper".into()),
        sdk_tool_version: Some("1.0".into()),
        port: 1,
        log_paths: vec![],
    };
    let value = encoded(&request);
    assert_eq!(value["SdkToolName"], "GameServerWrapper");
    assert_eq!(value["SdkToolVersion"], "1.0");
    assert_eq!(value["LogPaths"], json!([]));
}

#[test]
fn simple_requests_match_the_spec() {
    let session = || GSESS.to_string();
    let cases = [
        (
            Request::HeartbeatServerProcess { health_status: true },
            json!({"Action":"HeartbeatServerProcess","RequestId":"r1","HealthStatus":true}),
        ),
        (
            Request::ActivateGameSession { game_session_id: session() },
            json!({"Action":"ActivateGameSession","RequestId":"r1","GameSessionId":GSESS}),
        ),
        (Request::TerminateServerProcess {}, json!({"Action":"TerminateServerProcess","RequestId":"r1"})),
        (
            Request::UpdatePlayerSessionCreationPolicy {
                game_session_id: session(),
                player_session_policy: PlayerSessionCreationPolicy::DenyAll,
            },
            json!({"Action":"UpdatePlayerSessionCreationPolicy","RequestId":"r1",
                   "GameSessionId":GSESS,"PlayerSessionPolicy":"DENY_ALL"}),
        ),
        (
            Request::AcceptPlayerSession { game_session_id: session(), player_session_id: "psess-123".into() },
            json!({"Action":"AcceptPlayerSession","RequestId":"r1","GameSessionId":GSESS,
                   "PlayerSessionId":"psess-123"}),
        ),
        (
            Request::RemovePlayerSession { game_session_id: session(), player_session_id: "psess-123".into() },
            json!({"Action":"RemovePlayerSession","RequestId":"r1","GameSessionId":GSESS,
                   "PlayerSessionId":"psess-123"}),
        ),
        (Request::GetComputeCertificate {}, json!({"Action":"GetComputeCertificate","RequestId":"r1"})),
        (
            Request::GetFleetRoleCredentials(GetFleetRoleCredentialsRequest {
                role_arn: "arn:aws:iam::123456789012:role/game".into(),
                role_session_name: "fleet-1-host-1".into(),
            }),
            json!({"Action":"GetFleetRoleCredentials","RequestId":"r1",
                   "RoleArn":"arn:aws:iam::123456789012:role/game","RoleSessionName":"fleet-1-host-1"}),
        ),
        (
            Request::StopMatchBackfill(StopMatchBackfillRequest {
                game_session_arn: GSESS.into(),
                matchmaking_configuration_arn: "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg"
                    .into(),
                ticket_id: "bf-123".into(),
            }),
            json!({"Action":"StopMatchBackfill","RequestId":"r1","GameSessionArn":GSESS,
                   "MatchmakingConfigurationArn":"arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg",
                   "TicketId":"bf-123"}),
        ),
    ];
    for (request, expected) in cases {
        assert_eq!(encoded(&request), expected, "{}", request.action());
    }
}

#[test]
fn describe_player_sessions_omits_unset_fields() {
    let request = Request::DescribePlayerSessions(DescribePlayerSessionsRequest {
        game_session_id: Some(GSESS.into()),
        player_session_status_filter: Some(PlayerSessionStatus::Active),
        limit: Some(10),
        ..Default::default()
    });
    assert_eq!(
        encoded(&request),
        json!({"Action":"DescribePlayerSessions","RequestId":"r1","GameSessionId":GSESS,
               "PlayerSessionStatusFilter":"ACTIVE","Limit":10})
    );
}

#[test]
fn start_match_backfill_encodes_players_and_attributes() {
    let request = Request::StartMatchBackfill(StartMatchBackfillRequest {
        ticket_id: String::new(),
        game_session_arn: GSESS.into(),
        matchmaking_configuration_arn: "arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg".into(),
        players: vec![Player {
            player_id: "p1".into(),
            team: Some("red".into()),
            player_attributes: HashMap::from([("skill".to_string(), AttributeValue::Double { n: 23.0 })]),
            latency_in_ms: HashMap::from([("us-east-1".to_string(), 20)]),
        }],
    });
    assert_eq!(
        encoded(&request),
        json!({"Action":"StartMatchBackfill","RequestId":"r1","TicketId":"","GameSessionArn":GSESS,
               "MatchmakingConfigurationArn":"arn:aws:gamelift:us-east-1:123456789012:matchmakingconfiguration/cfg",
               "Players":[{"PlayerId":"p1","Team":"red",
                           "PlayerAttributes":{"skill":{"AttrType":"DOUBLE","N":23.0}},
                           "LatencyInMs":{"us-east-1":20}}]})
    );
}

#[test]
fn attribute_values_use_attr_type_tags() {
    let cases = [
        (AttributeValue::String { s: "x".into() }, json!({"AttrType":"STRING","S":"x"})),
        (AttributeValue::StringList { sl: vec!["a".into()] }, json!({"AttrType":"STRING_LIST","SL":["a"]})),
        (
            AttributeValue::StringDoubleMap { sdm: HashMap::from([("k".to_string(), 1.0)]) },
            json!({"AttrType":"STRING_DOUBLE_MAP","SDM":{"k":1.0}}),
        ),
    ];
    for (value, expected) in cases {
        assert_eq!(serde_json::to_value(&value).unwrap(), expected);
    }
}

#[test]
fn create_game_session_push_decodes_the_spec_example() {
    let text = r#"{"Action":"CreateGameSession","StatusCode":200,"GameSessionId":"arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-9",
 "GameSessionName":"match-42","MaximumPlayerSessionCount":8,"Port":7777,"IpAddress":"203.0.113.10",
 "DnsName":"ec2-203-0-113-10.compute.example","GameSessionData":"mode=ctf","MatchmakerData":"",
 "GameProperties":{"map":"dust"}}"#;
    let Inbound::Push(Push::CreateGameSession(session)) = decode(text).unwrap() else {
        panic!("not a CreateGameSession push");
    };
    assert_eq!(session.game_session_id, GSESS);
    assert_eq!(session.name, "match-42");
    assert_eq!(session.maximum_player_session_count, 8);
    assert_eq!(session.port, 7777);
    assert_eq!(session.ip_address, "203.0.113.10");
    assert_eq!(session.dns_name, "ec2-203-0-113-10.compute.example");
    assert_eq!(session.game_session_data, "mode=ctf");
    assert_eq!(session.game_properties["map"], "dust");
}

#[test]
fn pushes_tolerate_nulls_and_missing_keys() {
    let text = r#"{"Action":"CreateGameSession","GameSessionId":"g","GameSessionName":null,"GameProperties":null}"#;
    let Inbound::Push(Push::CreateGameSession(session)) = decode(text).unwrap() else {
        panic!("not a CreateGameSession push");
    };
    assert_eq!(session.game_session_id, "g");
    assert!(session.name.is_empty());
    assert!(session.game_properties.is_empty());
}

#[test]
fn update_game_session_push_reads_name_and_reason() {
    let text = r#"{"Action":"UpdateGameSession","StatusCode":200,"UpdateReason":"MATCHMAKING_DATA_UPDATED","BackfillTicketId":"bf-123",
 "GameSession":{"GameSessionId":"g9","Name":"match-42","FleetId":"fleet-1","MaximumPlayerSessionCount":8,
  "Port":7777,"IpAddress":"203.0.113.10","DnsName":"","GameSessionData":"","MatchmakerData":"{}","GameProperties":{}}}"#;
    let Inbound::Push(Push::UpdateGameSession(update)) = decode(text).unwrap() else {
        panic!("not an UpdateGameSession push");
    };
    assert_eq!(update.update_reason, UpdateReason::MatchmakingDataUpdated);
    assert_eq!(update.backfill_ticket_id, "bf-123");
    assert_eq!(update.game_session.name, "match-42");
    assert_eq!(update.game_session.matchmaker_data, "{}");
    let unknown = decode(r#"{"Action":"UpdateGameSession","UpdateReason":"SOMETHING_NEW"}"#).unwrap();
    let Inbound::Push(Push::UpdateGameSession(update)) = unknown else {
        panic!("not an UpdateGameSession push");
    };
    assert_eq!(update.update_reason, UpdateReason::Unknown);
}

#[test]
fn terminate_process_and_refresh_connection_pushes_decode() {
    assert_eq!(
        decode(r#"{"Action":"TerminateProcess","StatusCode":200,"TerminationTime":1767229200000}"#).unwrap(),
        Inbound::Push(Push::TerminateProcess(1_767_229_200_000))
    );
    assert_eq!(
        decode(r#"{"Action":"RefreshConnection","StatusCode":200,"RefreshConnectionEndpoint":"wss://gl.example.net:7443","AuthToken":"tok_new"}"#)
            .unwrap(),
        Inbound::Refresh(RefreshConnection {
            refresh_connection_endpoint: "wss://gl.example.net:7443".into(),
            auth_token: "tok_new".into(),
        })
    );
}

#[test]
fn success_response_carries_the_whole_frame() {
    let text = r#"{"Action":"DescribePlayerSessions","RequestId":"r1","StatusCode":200,"NextToken":null,
 "PlayerSessions":[{"PlayerSessionId":"psess-1","PlayerId":"p1","GameSessionId":"g9","FleetId":"fleet-1",
  "Status":"ACTIVE","IpAddress":"10.0.0.5","DnsName":"","Port":7777,"PlayerData":"","CreationTime":1767225600000,"TerminationTime":0}]}"#;
    let Inbound::Response { request_id, outcome: Ok(frame) } = decode(text).unwrap() else {
        panic!("not a success response");
    };
    assert_eq!(request_id, "r1");
    let result: DescribePlayerSessionsResult = serde_json::from_value(frame).unwrap();
    assert_eq!(result.next_token, None);
    let session = &result.player_sessions[0];
    assert_eq!(session.player_session_id, "psess-1");
    assert_eq!(session.status, PlayerSessionStatus::Active);
    assert_eq!(session.port, 7777);
    assert_eq!(session.creation_time, 1_767_225_600_000);
}

#[test]
fn error_response_is_routed_to_its_request() {
    let text = r#"{"Action": null, "RequestId": "r7", "StatusCode": 400, "ErrorMessage": "Invalid request: Connect"}"#;
    assert_eq!(
        decode(text).unwrap(),
        Inbound::Response {
            request_id: "r7".into(),
            outcome: Err(ServiceFailure { status: 400, message: "Invalid request: Connect".into() }),
        }
    );
}

#[test]
fn response_without_status_code_is_an_error_like_in_go() {
    let decoded = decode(r#"{"Action":"AcceptPlayerSession","RequestId":"r2"}"#).unwrap();
    assert!(matches!(decoded, Inbound::Response { outcome: Err(ServiceFailure { status: 0, .. }), .. }));
}

#[test]
fn frames_without_request_id_or_push_action_are_unroutable() {
    assert!(decode(r#"{"Action":"Bogus","StatusCode":200}"#).is_err());
    assert!(decode(r#"{"Action":"AcceptPlayerSession","RequestId":"","StatusCode":200}"#).is_err());
    assert!(decode("not json").is_err());
}
