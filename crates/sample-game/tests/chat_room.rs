//! Runs the sample game binary against an in-test stand-in for the service side of the SDK
//! protocol (spec §6 lifecycle) and plays a short chat with real TCP players.

use std::process::Stdio;

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;

const GSESS: &str = "arn:aws:gamelift:us-east-1::gamesession/fleet-1/gsess-1";

/// The service side of the game's SDK connection.
struct Service(WebSocketStream<TcpStream>);

impl Service {
    /// The next request other than a heartbeat (heartbeats are answered on the way).
    async fn request(&mut self) -> Result<Value> {
        loop {
            let message = self.0.next().await.context("connection ended")??;
            let Message::Text(text) = message else {
                continue;
            };
            let request: Value = serde_json::from_str(&text)?;
            if request["Action"] != "HeartbeatServerProcess" {
                return Ok(request);
            }
            self.answer(&request, 200).await?;
        }
    }

    async fn expect(&mut self, action: &str) -> Result<Value> {
        let request = self.request().await?;
        if request["Action"] != action {
            bail!("expected {action}, got {request}");
        }
        Ok(request)
    }

    async fn answer(&mut self, request: &Value, status: u16) -> Result<()> {
        let frame = json!({"Action": request["Action"], "RequestId": request["RequestId"],
                           "StatusCode": status, "ErrorMessage": "player session expired"});
        Ok(self.0.send(Message::text(frame.to_string())).await?)
    }
}

/// A player's TCP connection.
struct Player(Lines<BufReader<OwnedReadHalf>>, OwnedWriteHalf);

impl Player {
    async fn connect(port: u16, id: &str) -> Result<Self> {
        let (read, write) = TcpStream::connect(("127.0.0.1", port)).await?.into_split();
        let mut player = Self(BufReader::new(read).lines(), write);
        player.say(id).await?;
        Ok(player)
    }

    async fn say(&mut self, line: &str) -> Result<()> {
        Ok(self.1.write_all(format!("{line}\n").as_bytes()).await?)
    }

    async fn hear(&mut self) -> Result<String> {
        self.0.next_line().await?.context("the server hung up")
    }
}

/// A running game process with its SDK connection, hosting game session `GSESS`.
struct Hosting {
    game: tokio::process::Child,
    service: Service,
    port: u16,
    log_path: String,
    _logs: tempfile::TempDir,
}

async fn launch_and_host() -> Result<Hosting> {
    let logs = tempfile::tempdir()?;
    let port = TcpListener::bind("127.0.0.1:0").await?.local_addr()?.port();
    let sdk_listener = TcpListener::bind("127.0.0.1:0").await?;
    let sdk_url = format!("ws://127.0.0.1:{}", sdk_listener.local_addr()?.port());
    let game = tokio::process::Command::new(env!("CARGO_BIN_EXE_openlift-sample-game"))
        .args(["--port", &port.to_string(), "--log-dir"])
        .arg(logs.path())
        .env("GAMELIFT_SDK_WEBSOCKET_URL", &sdk_url)
        .env("GAMELIFT_SDK_PROCESS_ID", "pid-1")
        .env("GAMELIFT_SDK_HOST_ID", "host-1")
        .env("GAMELIFT_SDK_FLEET_ID", "fleet-1")
        .env("GAMELIFT_SDK_AUTH_TOKEN", "tok-1")
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()?;

    let (tcp, _) = sdk_listener.accept().await?;
    let mut service = Service(tokio_tungstenite::accept_async(tcp).await?);
    let ready = service.expect("ActivateServerProcess").await?;
    assert_eq!(ready["Port"], port);
    let log_path = ready["LogPaths"][0].as_str().context("a log path")?.to_string();
    assert!(log_path.starts_with(logs.path().canonicalize()?.to_str().context("utf-8")?));
    service.answer(&ready, 200).await?;

    let push = json!({"Action": "CreateGameSession", "GameSessionId": GSESS,
                      "GameSessionName": "chat", "MaximumPlayerSessionCount": 4, "Port": port});
    service.0.send(Message::text(push.to_string())).await?;
    let activate = service.expect("ActivateGameSession").await?;
    assert_eq!(activate["GameSessionId"], GSESS);
    service.answer(&activate, 200).await?;
    Ok(Hosting { game, service, port, log_path, _logs: logs })
}

impl Hosting {
    /// Connects a player whose session the service accepts.
    async fn join(&mut self, id: &str) -> Result<Player> {
        let mut player = Player::connect(self.port, id).await?;
        let accept = self.service.expect("AcceptPlayerSession").await?;
        assert_eq!(accept["PlayerSessionId"], id);
        self.service.answer(&accept, 200).await?;
        assert_eq!(player.hear().await?, format!("OK {id}"));
        Ok(player)
    }

    /// Answers the process ending and checks the game exits with status 0.
    async fn ends(mut self) -> Result<()> {
        let ending = self.service.expect("TerminateServerProcess").await?;
        self.service.answer(&ending, 200).await?;
        assert!(self.game.wait().await?.success());
        let log = tokio::fs::read_to_string(&self.log_path).await?;
        assert!(log.contains("game session active"), "{log}");
        Ok(())
    }
}

#[tokio::test]
async fn players_chat_and_end_the_game_session() -> Result<()> {
    let mut hosting = launch_and_host().await?;
    let mut alice = hosting.join("psess-a").await?;
    let mut bob = hosting.join("psess-b").await?;
    assert_eq!(alice.hear().await?, "*: psess-b joined");

    let mut mallory = Player::connect(hosting.port, "psess-m").await?;
    let refused = hosting.service.expect("AcceptPlayerSession").await?;
    hosting.service.answer(&refused, 400).await?;
    assert!(mallory.hear().await?.starts_with("ERROR "));

    alice.say("hello bob").await?;
    assert_eq!(bob.hear().await?, "psess-a: hello bob");
    bob.say("/end").await?;
    assert_eq!(alice.hear().await?, "* game over");

    let mut removed = Vec::new();
    for _ in 0..2 {
        let remove = hosting.service.expect("RemovePlayerSession").await?;
        removed.push(remove["PlayerSessionId"].as_str().unwrap_or_default().to_string());
        hosting.service.answer(&remove, 200).await?;
    }
    removed.sort();
    assert_eq!(removed, ["psess-a", "psess-b"]);
    hosting.ends().await
}

#[tokio::test]
async fn the_game_ends_when_the_last_player_leaves() -> Result<()> {
    let mut hosting = launch_and_host().await?;
    let player = hosting.join("psess-a").await?;
    drop(player);
    let remove = hosting.service.expect("RemovePlayerSession").await?;
    assert_eq!(remove["PlayerSessionId"], "psess-a");
    hosting.service.answer(&remove, 200).await?;
    hosting.ends().await
}

#[tokio::test]
async fn terminate_process_ends_the_game() -> Result<()> {
    let mut hosting = launch_and_host().await?;
    let push = json!({"Action": "TerminateProcess", "TerminationTime": 1767229200000_i64});
    hosting.service.0.send(Message::text(push.to_string())).await?;
    hosting.ends().await
}
