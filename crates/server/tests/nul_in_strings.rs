//! U+0000 in any string member, top-level or nested, gets one answer on SQLite and on
//! PostgreSQL (whose `TEXT` cannot hold it): `InvalidRequestException`, HTTP 400, naming
//! the member, before anything is stored (`docs/decisions.md`, "NUL in strings"). Requests
//! go out as awsJson (the bytes boto3 sends) and through `aws-sdk-gamelift` (CBOR).

mod common;
#[path = "../../../tests/support/postgres_schema.rs"]
mod postgres_schema;

use aws_sdk_gamelift::error::ProvideErrorMetadata;
use aws_sdk_gamelift::types::{RoutingStrategy, RoutingStrategyType, Tag};
use common::{Raw, Signer, TestServer};
use postgres_schema::PostgresSchema;

/// Requests with a NUL somewhere, and the member path each must name.
const CASES: &[(&str, &str, &str)] = &[
    ("CreateAlias", r#"{"Name": "a\u0000b", "RoutingStrategy": {"Type": "TERMINAL", "Message": "m"}}"#, "name"),
    (
        "CreateAlias",
        r#"{"Name": "a", "RoutingStrategy": {"Type": "TERMINAL", "Message": "m"}, "Tags": [{"Key": "k", "Value": "v\u0000"}]}"#,
        "tags.1.member.value",
    ),
    (
        "CreateLocation",
        r#"{"LocationName": "custom-nul", "Tags": [{"Key": "\u0000", "Value": "v"}]}"#,
        "tags.1.member.key",
    ),
    ("ListAliases", r#"{"Name": "\u0000"}"#, "name"),
    (
        "CreateGameSession",
        r#"{"FleetId": "fleet-1", "MaximumPlayerSessionCount": 2, "CreatorId": "c\u0000"}"#,
        "creatorId",
    ),
    (
        "CreateGameSession",
        r#"{"FleetId": "fleet-1", "MaximumPlayerSessionCount": 2, "GameProperties": [{"Key": "k", "Value": "\u0000"}]}"#,
        "gameProperties.1.member.value",
    ),
    (
        "CreatePlayerSessions",
        r#"{"GameSessionId": "gsess-1", "PlayerIds": ["p"], "PlayerDataMap": {"p": "data\u0000"}}"#,
        "playerDataMap.p",
    ),
    ("CreatePlayerSession", r#"{"GameSessionId": "gsess-1", "PlayerId": "p", "PlayerData": "\u0000"}"#, "playerData"),
    ("DescribePlayerSessions", r#"{"PlayerId": "p\u0000"}"#, "playerId"),
];

/// Sends every case to `server` and checks each answer; returns them (status, code, message).
async fn answers(server: &TestServer) -> Vec<(u16, String, String)> {
    let raw = Raw::new(server);
    let signer = Signer::at(server.now());
    let mut out = Vec::new();
    for (operation, body, path) in CASES {
        let response = raw.send_signed(raw.json_request(operation, body.as_bytes()), &signer).await;
        let (code, message) = response.error();
        let constraint =
            format!("at '{path}' failed to satisfy constraint: Member must not contain the character U+0000");
        assert_eq!((response.status, code.as_str()), (400, "InvalidRequestException"), "{operation}: {message}");
        assert!(message.contains(&constraint), "{operation}: {message}");
        out.push((response.status, code, message));
    }

    let sdk = server.sdk();
    let strategy = RoutingStrategy::builder().r#type(RoutingStrategyType::Terminal).message("m").build();
    let err = sdk.create_alias().name("a\0b").routing_strategy(strategy.clone()).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"), "{err:?}");
    assert!(err.message().unwrap_or_default().contains("at 'name' failed"), "{err:?}");

    assert!(sdk.list_aliases().send().await.unwrap().aliases().is_empty(), "nothing was stored");
    let alias = sdk.create_alias().name("live").routing_strategy(strategy).send().await.unwrap();
    let arn = alias.alias().and_then(|a| a.alias_arn()).unwrap().to_owned();
    let tag = Tag::builder().key("k").value("v\0").build();
    let err = sdk.tag_resource().resource_arn(&arn).tags(tag).send().await.unwrap_err();
    assert_eq!(err.code(), Some("InvalidRequestException"), "{err:?}");
    let listed = sdk.list_tags_for_resource().resource_arn(&arn).send().await.unwrap();
    assert!(listed.tags().is_empty(), "the refused tag was not stored");
    out
}

/// SQLite and PostgreSQL answer every NUL case alike, with the member named.
#[tokio::test]
async fn nul_in_any_string_member_is_refused_alike_on_sqlite_and_postgres() {
    let sqlite = TestServer::start().await;
    let on_sqlite = answers(&sqlite).await;
    sqlite.stop().await;

    let Some(schema) = PostgresSchema::create().await else { return };
    let postgres = TestServer::start_with_database(&schema.url()).await;
    let on_postgres = answers(&postgres).await;
    postgres.stop().await;
    schema.drop_schema().await;
    assert_eq!(on_sqlite, on_postgres);
}
