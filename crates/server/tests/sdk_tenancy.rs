//! What a game server may read over the SDK (`server-sdk-protocol.md` section 3): its own
//! game session's and fleet's player sessions and its own compute, never another fleet's.
//! Two fleets, each with a real `openlift-server-sdk` process hosting a game session that
//! holds a seat for the same player ID.

mod sdk_endpoint_support;

use openlift_server_sdk::{DescribePlayerSessionsRequest, Error, PlayerSession, ServiceErrorKind};
use sdk_endpoint_support::games::{Game, OnStart};
use sdk_endpoint_support::{CERTIFICATE_PATH, Harness};

/// A player ID both fleets have a seat for.
const PLAYER: &str = "shared-player";

/// One fleet's game server, the game session it hosts and the player session in it.
struct Tenant {
    game: Game,
    fleet_id: String,
    game_session_id: String,
    player_session_id: String,
}

async fn tenant(h: &Harness, compute_name: &str, port: u16) -> Tenant {
    let compute = h.fleet_with_compute(compute_name).await;
    let mut game = Game::start(h, &compute, port, OnStart::Activate).await;
    let created = h.create_game_session(&compute, 4).send().await.expect("CreateGameSession");
    let game_session_id = created.game_session().and_then(|s| s.game_session_id()).unwrap().to_owned();
    game.next_session().await;
    let reserved = h.gamelift.create_player_session().game_session_id(&game_session_id).player_id(PLAYER);
    let reserved = reserved.player_data(format!("secret of {compute_name}")).send().await.expect("CreatePlayerSession");
    let player_session_id = reserved.player_session().and_then(|p| p.player_session_id()).unwrap().to_owned();
    Tenant { game, fleet_id: compute.fleet_id, game_session_id, player_session_id }
}

async fn describe(tenant: &Tenant, request: DescribePlayerSessionsRequest) -> Result<Vec<PlayerSession>, Error> {
    tenant.game.sdk.describe_player_sessions(request).await.map(|result| result.player_sessions)
}

fn refused(outcome: Result<Vec<PlayerSession>, Error>) -> (ServiceErrorKind, String) {
    match outcome {
        Err(Error::Service { kind, message, .. }) => (kind, message),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[tokio::test]
async fn sdk_reads_never_reach_another_fleets_sessions_or_compute() {
    let h = Harness::start().await;
    let a = tenant(&h, "host-a", 7001).await;
    let b = tenant(&h, "host-b", 7002).await;

    for (me, other) in [(&a, &b), (&b, &a)] {
        let by_player =
            describe(me, DescribePlayerSessionsRequest { player_id: Some(PLAYER.into()), ..Default::default() });
        let by_player = by_player.await.expect("own fleet's players");
        assert_eq!(by_player.len(), 1, "{by_player:?}");
        assert_eq!((&by_player[0].player_session_id, &by_player[0].fleet_id), (&me.player_session_id, &me.fleet_id));

        let own = DescribePlayerSessionsRequest {
            player_session_id: Some(me.player_session_id.clone()),
            ..Default::default()
        };
        assert_eq!(describe(me, own).await.expect("own player session")[0].ip_address, "10.1.1.1");
        let foreign = DescribePlayerSessionsRequest {
            player_session_id: Some(other.player_session_id.clone()),
            ..Default::default()
        };
        let (kind, message) = refused(describe(me, foreign).await);
        assert_eq!(kind, ServiceErrorKind::NotFound);
        assert_eq!(message, format!("Player session {} not found.", other.player_session_id));
        let unknown =
            DescribePlayerSessionsRequest { player_session_id: Some("psess-unknown".into()), ..Default::default() };
        assert_eq!(refused(describe(me, unknown).await).0, ServiceErrorKind::NotFound, "as for an unknown ID");

        let own =
            DescribePlayerSessionsRequest { game_session_id: Some(me.game_session_id.clone()), ..Default::default() };
        assert_eq!(describe(me, own).await.expect("own game session's players").len(), 1);
        let foreign = DescribePlayerSessionsRequest {
            game_session_id: Some(other.game_session_id.clone()),
            ..Default::default()
        };
        let (kind, message) = refused(describe(me, foreign).await);
        assert_eq!(kind, ServiceErrorKind::BadRequest);
        assert!(message.contains("this process does not host it"), "{message}");
    }

    let certificate = a.game.sdk.get_compute_certificate().await.expect("GetComputeCertificate");
    assert_eq!(
        (certificate.compute_name.as_str(), certificate.certificate_path.as_str()),
        ("host-a", CERTIFICATE_PATH)
    );
    let certificate = b.game.sdk.get_compute_certificate().await.expect("GetComputeCertificate");
    assert_eq!(certificate.compute_name, "host-b");

    let control_plane = h.gamelift.describe_player_sessions().player_id(PLAYER).send().await.expect("control plane");
    assert_eq!(control_plane.player_sessions().len(), 2, "the control plane still sees every fleet");
    h.stop().await;
}
