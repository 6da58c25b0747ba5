//! Player sessions: added with their game session's count in one transaction,
//! all or nothing, replaced, listed, and raced.

use openlift_core::records::PlayerSessionRecord;
use openlift_model::{PlayerSessionStatus, Timestamp};
use openlift_store::{OutboxEvent, PlayerSessionFilter, SessionChange, StoreError};

use super::{exactly_one_wins, page, race};
use crate::support::{Backend, event, game_session, player, with_players};

/// The IDs of listed player sessions.
fn ids(items: Vec<PlayerSessionRecord>) -> Vec<String> {
    items.into_iter().map(|p| p.player_session_id.unwrap()).collect()
}

/// A player session filter.
fn filter(
    game_session: Option<&str>,
    player: Option<&str>,
    status: Option<&str>,
    before: Option<i64>,
) -> PlayerSessionFilter {
    PlayerSessionFilter {
        game_session_id: game_session.map(str::to_owned),
        player_id: player.map(str::to_owned),
        status: status.map(str::to_owned),
        created_before: before.map(Timestamp::from_millis),
        fleet_id: None,
    }
}

/// `player` in `status`, ended at `ended` when given.
fn with_status(player: &PlayerSessionRecord, status: PlayerSessionStatus, ended: Option<i64>) -> PlayerSessionRecord {
    let mut player = player.clone();
    player.status = Some(status);
    player.termination_time = ended.map(Timestamp::from_millis);
    player
}

/// Add, get, list by game session, player, status and age with paging, and
/// replace a player session alone or together with its game session.
pub async fn player_sessions(backend: &Backend) {
    let store = backend.open().await;
    let (gs1, gs2) =
        (game_session("gs-1", "fleet-1", "us-west-2", None, 1), game_session("gs-2", "fleet-1", "us-west-2", None, 1));
    store.create_game_session(&gs1).await.unwrap();
    store.create_game_session(&gs2).await.unwrap();
    let batch1 = [
        player("ps-0", "gs-1", "alice", 100),
        player("ps-1", "gs-1", "bob", 200),
        player("ps-2", "gs-1", "alice", 300),
    ];
    let gs1 = with_players(&gs1, 3);
    assert_eq!(store.add_player_sessions(&gs1, 1, &batch1).await.unwrap(), 2);
    let gs2 = with_players(&gs2, 1);
    store.add_player_sessions(&gs2, 1, &[player("ps-3", "gs-2", "alice", 400)]).await.unwrap();
    let got = store.get_game_session("gs-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (gs1.clone(), 2));
    assert_eq!(store.get_player_session("ps-1").await.unwrap(), Some(batch1[1].clone()));
    assert_eq!(store.get_player_session("ps-9").await.unwrap(), None);

    let list = |f: PlayerSessionFilter, after, limit| {
        let store = store.clone();
        async move { store.list_player_sessions(&f, page(after, limit)).await.unwrap() }
    };
    let first = list(filter(Some("gs-1"), None, None, None), None, 2).await;
    assert_eq!(ids(first.items), ["ps-0", "ps-1"]);
    let second = list(filter(Some("gs-1"), None, None, None), first.next, 2).await;
    assert_eq!((ids(second.items), second.next), (vec!["ps-2".to_owned()], None));
    assert_eq!(ids(list(filter(None, Some("alice"), None, None), None, 10).await.items), ["ps-0", "ps-2", "ps-3"]);
    assert_eq!(ids(list(filter(Some("gs-1"), Some("alice"), None, None), None, 10).await.items), ["ps-0", "ps-2"]);
    assert_eq!(ids(list(filter(None, None, Some("RESERVED"), Some(300)), None, 10).await.items), ["ps-0", "ps-1"]);
    assert!(list(filter(Some("gs-9"), None, None, None), None, 10).await.items.is_empty());
    let gs3 = game_session("gs-3", "fleet-2", "us-west-2", None, 1);
    store.create_game_session(&gs3).await.unwrap();
    store.add_player_sessions(&with_players(&gs3, 1), 1, &[player("ps-4", "gs-3", "alice", 500)]).await.unwrap();
    let in_fleet = |fleet: &str| PlayerSessionFilter {
        fleet_id: Some(fleet.to_owned()),
        ..filter(None, Some("alice"), None, None)
    };
    assert_eq!(ids(list(in_fleet("fleet-1"), None, 10).await.items), ["ps-0", "ps-2", "ps-3"]);
    assert_eq!(ids(list(in_fleet("fleet-2"), None, 10).await.items), ["ps-4"]);
    let fleet_1_first = list(in_fleet("fleet-1"), None, 2).await;
    assert_eq!(ids(list(in_fleet("fleet-1"), fleet_1_first.next, 2).await.items), ["ps-3"], "pages stay in the fleet");
    assert!(list(in_fleet("fleet-9"), None, 10).await.items.is_empty());

    let accepted = with_status(&batch1[0], PlayerSessionStatus::Active, None);
    store.change_sessions(players_only(std::slice::from_ref(&accepted))).await.unwrap();
    assert_eq!(store.get_player_session("ps-0").await.unwrap(), Some(accepted.clone()));
    assert_eq!(ids(list(filter(None, None, Some("ACTIVE"), None), None, 10).await.items), ["ps-0"]);
    assert_eq!(store.get_game_session("gs-1").await.unwrap().unwrap().version, 2, "the game session is untouched");

    let left = with_status(&batch1[1], PlayerSessionStatus::Completed, Some(900));
    let gs1_after = with_players(&gs1, -1);
    let change = SessionChange { session: Some((&gs1_after, 2)), players: std::slice::from_ref(&left), events: &[] };
    store.change_sessions(change).await.unwrap();
    let got = store.get_game_session("gs-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (gs1_after.clone(), 3));
    assert_eq!(store.get_player_session("ps-1").await.unwrap(), Some(left));

    let timed_out = with_status(&batch1[2], PlayerSessionStatus::Timedout, Some(950));
    let stale = SessionChange {
        session: Some((&with_players(&gs1, -2), 2)),
        players: std::slice::from_ref(&timed_out),
        events: &[OutboxEvent::Fleet(event("fleet-1", 1, 950))],
    };
    let stale = store.change_sessions(stale).await;
    assert!(matches!(stale, Err(StoreError::VersionConflict)), "{stale:?}");
    assert_eq!(store.get_player_session("ps-2").await.unwrap(), Some(batch1[2].clone()), "nothing changed");
    assert!(store.events_after(0, 10).await.unwrap().is_empty(), "nor was the event appended");

    let ended = [
        with_status(&accepted, PlayerSessionStatus::Completed, Some(990)),
        player("ps-9", "gs-1", "x", 1),
        with_status(&batch1[2], PlayerSessionStatus::Completed, Some(990)),
    ];
    let ended_session = with_players(&gs1_after, -2);
    let events = [OutboxEvent::Fleet(event("fleet-1", 2, 990))];
    let missing = SessionChange { session: Some((&ended_session, 3)), players: &ended, events: &events };
    let missing = store.change_sessions(missing).await;
    assert!(matches!(missing, Err(StoreError::NotFound)), "{missing:?}");
    let got = store.get_game_session("gs-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (gs1_after.clone(), 3), "the game session's update was rolled back");
    assert_eq!(store.get_player_session("ps-0").await.unwrap(), Some(accepted), "and so was the first player's");
    assert!(store.events_after(0, 10).await.unwrap().is_empty(), "and the event");
    assert!(matches!(
        store.change_sessions(players_only(&[player("ps-9", "gs-1", "x", 1)])).await,
        Err(StoreError::NotFound)
    ));

    let all = SessionChange {
        session: Some((&ended_session, 3)),
        players: &[ended[0].clone(), ended[2].clone()],
        events: &events,
    };
    store.change_sessions(all).await.unwrap();
    let got = store.get_game_session("gs-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (ended_session, 4));
    assert!(list(filter(Some("gs-1"), None, Some("ACTIVE"), None), None, 10).await.items.is_empty());
    assert_eq!(
        ids(list(filter(Some("gs-1"), None, Some("COMPLETED"), None), None, 10).await.items),
        ["ps-0", "ps-1", "ps-2"]
    );
    let appended = store.events_after(0, 10).await.unwrap();
    assert_eq!(appended.into_iter().map(|e| e.value).collect::<Vec<_>>(), events, "the event came with the change");
}

/// A change of player sessions alone.
fn players_only(players: &[PlayerSessionRecord]) -> SessionChange<'_> {
    SessionChange { players, ..SessionChange::default() }
}

/// A batch with a taken or repeated player session ID, or a stale game session,
/// inserts nothing and leaves the game session's version alone.
pub async fn add_player_sessions_all_or_nothing(backend: &Backend) {
    let store = backend.open().await;
    let created = game_session("gs-1", "fleet-1", "us-west-2", None, 1);
    store.create_game_session(&created).await.unwrap();
    store.add_player_sessions(&with_players(&created, 1), 1, &[player("ps-0", "gs-1", "a", 1)]).await.unwrap();
    let after_first = with_players(&created, 1);

    let repeated = [player("ps-1", "gs-1", "b", 2), player("ps-2", "gs-1", "c", 2), player("ps-1", "gs-1", "d", 2)];
    let result = store.add_player_sessions(&with_players(&after_first, 3), 2, &repeated).await;
    assert!(matches!(result, Err(StoreError::AlreadyExists)), "{result:?}");
    let taken = [player("ps-3", "gs-1", "b", 2), player("ps-0", "gs-1", "c", 2)];
    let result = store.add_player_sessions(&with_players(&after_first, 2), 2, &taken).await;
    assert!(matches!(result, Err(StoreError::AlreadyExists)), "{result:?}");
    let result = store.add_player_sessions(&with_players(&after_first, 1), 1, &[player("ps-4", "gs-1", "b", 2)]).await;
    assert!(matches!(result, Err(StoreError::VersionConflict)), "{result:?}");
    let unknown = game_session("gs-9", "fleet-1", "us-west-2", None, 1);
    let result = store.add_player_sessions(&unknown, 1, &[player("ps-5", "gs-9", "b", 2)]).await;
    assert!(matches!(result, Err(StoreError::NotFound)), "{result:?}");

    let got = store.get_game_session("gs-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (after_first.clone(), 2));
    let all = store.list_player_sessions(&PlayerSessionFilter::default(), page(None, 10)).await.unwrap();
    assert_eq!(ids(all.items), ["ps-0"], "no failed batch left a row behind");
    for id in ["ps-1", "ps-2", "ps-3", "ps-4", "ps-5"] {
        assert_eq!(store.get_player_session(id).await.unwrap(), None, "{id}");
    }
    let batch = [player("ps-1", "gs-1", "b", 2), player("ps-2", "gs-1", "c", 2)];
    assert_eq!(store.add_player_sessions(&with_players(&after_first, 2), 2, &batch).await.unwrap(), 3);
}

/// 50 batches added from the same game session version: exactly one wins and
/// only its player sessions exist.
pub async fn concurrent_add_player_sessions(backend: &Backend) {
    let store = backend.open().await;
    let created = game_session("gs-1", "fleet-1", "us-west-2", None, 1);
    store.create_game_session(&created).await.unwrap();
    let results = race(backend, 50, |store, i| {
        let created = created.clone();
        async move {
            let players = [player(&format!("ps-{i}-a"), "gs-1", "a", 1), player(&format!("ps-{i}-b"), "gs-1", "b", 1)];
            store.add_player_sessions(&with_players(&created, 2), 1, &players).await.map(|_| i)
        }
    })
    .await;
    exactly_one_wins(&results, |e| matches!(e, StoreError::VersionConflict));
    let winner = results.iter().find_map(|r| r.as_ref().ok()).unwrap();
    let got = store.get_game_session("gs-1").await.unwrap().unwrap();
    assert_eq!((got.value, got.version), (with_players(&created, 2), 2));
    let all = store.list_player_sessions(&PlayerSessionFilter::default(), page(None, 200)).await.unwrap();
    assert_eq!(ids(all.items), [format!("ps-{winner}-a"), format!("ps-{winner}-b")]);
}
