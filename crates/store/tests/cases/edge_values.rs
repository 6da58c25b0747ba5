//! Edge values: strings at the model's longest, characters outside the Basic Multilingual
//! Plane, numbers at their limits. Both backends store and return them unchanged, and
//! filter and sort by them alike. Also U+0000, which PostgreSQL's `TEXT` cannot hold.

use openlift_model::GameSessionStatus::Terminated;
use openlift_model::{GameProperty, RoutingStrategyType, Timestamp};
use openlift_store::{AliasFilter, EventFilter, GameSessionFilter, PlayerSessionFilter, StoreError};

use super::page;
use crate::support::{Backend, alias, event, game_session, player, tag, with_status};

/// `unit` repeated until the text is `chars` characters long.
fn long(unit: &str, chars: usize) -> String {
    unit.chars().cycle().take(chars).collect()
}

/// Tags with the longest key (128) and value (256), non-BMP characters, and an empty
/// value; keys sort by code point (UTF-8 bytes), which puts U+1F600 after U+FFFD where
/// UTF-16 order would not.
pub async fn edge_value_tags(backend: &Backend) {
    let store = backend.open().await;
    let arn = "arn:aws:gamelift:us-west-2::alias/alias-😀";
    let longest = tag(&long("k😀", 128), &long("🎮é", 256));
    let tags = [tag("😀", "astral"), tag("\u{FFFD}", "replacement"), tag("z", ""), longest.clone()];
    store.tag_resource(arn, &tags).await.unwrap();
    let expected = vec![longest, tag("z", ""), tag("\u{FFFD}", "replacement"), tag("😀", "astral")];
    assert_eq!(store.list_tags(arn).await.unwrap(), expected);
    store.untag_resource(arn, &["😀".into()]).await.unwrap();
    assert_eq!(store.list_tags(arn).await.unwrap().len(), 3);
}

/// An alias named with 1,024 non-BMP characters is found by that name.
pub async fn edge_value_aliases(backend: &Backend) {
    let store = backend.open().await;
    let name = long("🐉", 1024);
    let mut record = alias("alias-edge", &name, RoutingStrategyType::Terminal);
    record.description = Some(long("ø𝄞", 1024));
    store.create_alias(&record, &[]).await.unwrap();
    let filter = AliasFilter { name: Some(name.clone()), ..AliasFilter::default() };
    assert_eq!(store.list_aliases(&filter, page(None, 10)).await.unwrap().items, vec![record.clone()]);
    let shorter = AliasFilter { name: Some(long("🐉", 1023)), ..AliasFilter::default() };
    assert!(store.list_aliases(&shorter, page(None, 10)).await.unwrap().items.is_empty());
    assert_eq!(store.get_alias("alias-edge").await.unwrap().unwrap().value, record);
}

/// A game session at every limit: the longest creator ID, session data and game
/// properties, `i32::MAX` players, and times at the ends of the `i64` millisecond range.
pub async fn edge_value_game_sessions(backend: &Backend) {
    let store = backend.open().await;
    let creator = long("👾", 1024);
    let id = "arn:aws:gamelift:us-west-2::gamesession/fleet-1/🎲";
    let mut session = game_session(id, "fleet-1", "custom-edge", Some(&creator), i64::MIN);
    let g = &mut session.game_session;
    g.name = Some(long("n🙂", 1024));
    g.maximum_player_session_count = Some(i32::MAX);
    g.current_player_session_count = Some(i32::MAX);
    g.port = Some(60000);
    g.game_session_data = Some(long("𝄞", 262_144));
    g.game_properties =
        Some((0..16).map(|i| GameProperty { key: long(&format!("{i:x}🔑"), 32), value: long("v💎", 96) }).collect());
    store.create_game_session(&session).await.unwrap();
    let got = store.get_game_session(id).await.unwrap().unwrap();
    assert_eq!(got.value, session);
    assert_eq!(store.get_game_session_by_token("🎲").await.unwrap().unwrap().value, session);

    let since = |millis| store.count_game_sessions_by_creator("fleet-1", &creator, Timestamp::from_millis(millis));
    assert_eq!(since(i64::MIN).await.unwrap(), 1);
    assert_eq!(since(i64::MIN + 1).await.unwrap(), 0);
    let older = GameSessionFilter { created_before: Some(Timestamp::from_millis(i64::MIN + 1)), ..Default::default() };
    assert_eq!(store.list_game_sessions(&older, page(None, 10)).await.unwrap().items, vec![session.clone()]);

    let ended = with_status(&session, Terminated, Some(i64::MAX));
    assert_eq!(store.update_game_session(&ended, got.version).await.unwrap(), got.version + 1);
    assert_eq!(store.purge_game_sessions(Timestamp::from_millis(i64::MAX)).await.unwrap(), 0, "ended at the limit");
    assert_eq!(store.get_game_session(id).await.unwrap().unwrap().value, ended);
}

/// A player session with the longest player ID and player data is found by player ID;
/// fleet events at both ends of the time range are listed within inclusive bounds.
pub async fn edge_value_players_and_events(backend: &Backend) {
    let store = backend.open().await;
    let session = game_session("arn:aws:gamelift:us-west-2::gamesession/fleet-1/gs", "fleet-1", "l", None, 0);
    store.create_game_session(&session).await.unwrap();
    let player_id = long("🧙", 1024);
    let mut record = player("psess-😀", session.id(), &player_id, i64::MAX);
    record.player_data = Some(long("ü😀", 2048));
    let with_one = crate::support::with_players(&session, 1);
    store.add_player_sessions(&with_one, 1, std::slice::from_ref(&record)).await.unwrap();
    let filter = PlayerSessionFilter { player_id: Some(player_id), ..Default::default() };
    assert_eq!(store.list_player_sessions(&filter, page(None, 10)).await.unwrap().items, vec![record.clone()]);
    assert_eq!(store.get_player_session("psess-😀").await.unwrap(), Some(record));

    let events = [event("fleet-😀", 1, i64::MIN), event("fleet-😀", 2, i64::MAX)];
    let fleet = crate::support::fleet("fleet-😀", openlift_model::FleetStatus::Active, &["custom-😀"]);
    store.create_fleet(&fleet, &events, &[]).await.unwrap();
    let all =
        EventFilter { start: Some(Timestamp::from_millis(i64::MIN)), end: Some(Timestamp::from_millis(i64::MAX)) };
    let listed = store.list_fleet_events("fleet-😀", &all, page(None, 10)).await.unwrap().items;
    assert_eq!(listed, vec![events[1].clone(), events[0].clone()], "newest first");
    assert_eq!(store.fleets_in_location("custom-😀").await.unwrap(), vec!["fleet-😀".to_owned()]);
}

/// U+0000 in a text column, which PostgreSQL cannot store: the typed
/// [`StoreError::Unstorable`] for a write and a lookup alike, never a backend failure,
/// and nothing of the failed write stays. (SQLite would store it; the API refuses it
/// before it reaches either store.)
pub async fn nul_in_text_is_unstorable(backend: &Backend) {
    let store = backend.open().await;
    let created = store.create_alias(&alias("alias-nul", "a\0b", RoutingStrategyType::Terminal), &[]).await;
    assert!(matches!(created, Err(StoreError::Unstorable)), "{created:?}");
    let tagged =
        store.tag_resource("arn:aws:gamelift:us-west-2::alias/alias-1", &[tag("k", "v"), tag("k\0", "v")]).await;
    assert!(matches!(tagged, Err(StoreError::Unstorable)), "{tagged:?}");
    let looked_up = store.get_game_session_by_token("token\0").await;
    assert!(matches!(looked_up, Err(StoreError::Unstorable)), "{looked_up:?}");
    assert!(store.get_alias("alias-nul").await.unwrap().is_none());
    assert!(store.list_tags("arn:aws:gamelift:us-west-2::alias/alias-1").await.unwrap().is_empty());
}
