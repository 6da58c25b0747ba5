//! The chat room: one task per player connection, speaking the line protocol described in
//! `lib.rs`, with the SDK's player-session calls (protocol spec §6 step 6).

use std::time::Duration;

use openlift_server_sdk::GameLiftServer;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};

/// How long a new connection may take to name its player session.
const HELLO_TIMEOUT: Duration = Duration::from_secs(30);

/// What the room tells the main loop.
#[derive(Debug)]
pub enum Event {
    /// A player session was accepted.
    Joined,
    /// An accepted player left and its session was removed.
    Left,
    /// A player typed `/end`.
    End,
    /// The service asked the process to terminate.
    Terminate,
}

/// One chat line: who said it and what.
type Line = (String, String);

/// Shared by all player tasks.
#[derive(Clone)]
pub struct Room {
    sdk: GameLiftServer,
    chat: broadcast::Sender<Line>,
    events: mpsc::UnboundedSender<Event>,
}

impl Room {
    /// An empty room reporting to `events`.
    pub fn new(sdk: GameLiftServer, events: mpsc::UnboundedSender<Event>) -> Self {
        let (chat, _) = broadcast::channel(256);
        Self { sdk, chat, events }
    }

    /// Serves one connection until the player leaves or the game ends. Sends to the chat, the
    /// main loop or the socket only fail once nobody listens any more, so they are not checked.
    pub async fn serve(self, socket: TcpStream, game_over: CancellationToken) {
        let (read, mut write) = socket.into_split();
        let mut lines = BufReader::new(read).lines();
        let player = match tokio::time::timeout(HELLO_TIMEOUT, lines.next_line()).await {
            Ok(Ok(Some(line))) => line.trim().to_string(),
            _ => return,
        };
        if let Err(error) = self.sdk.accept_player_session(&player).await {
            warn!(%player, %error, "player session refused");
            let _ = write.write_all(format!("ERROR {error}\n").as_bytes()).await;
            return;
        }
        info!(%player, "player joined");
        let _ = self.events.send(Event::Joined);
        // Announced before subscribing, so the others hear it and the newcomer does not.
        let _ = self.chat.send(("*".into(), format!("{player} joined")));
        let mut chat = self.chat.subscribe();
        let mut outgoing = format!("OK {player}\n");
        loop {
            if write.write_all(outgoing.as_bytes()).await.is_err() {
                break;
            }
            outgoing = tokio::select! {
                () = game_over.cancelled() => {
                    let _ = write.write_all(b"* game over\n").await;
                    break;
                }
                line = lines.next_line() => match line {
                    Ok(Some(line)) if line.trim() == "/end" => {
                        info!(%player, "player ended the game");
                        let _ = self.events.send(Event::End);
                        String::new()
                    }
                    Ok(Some(line)) => {
                        let _ = self.chat.send((player.clone(), line));
                        String::new()
                    }
                    Ok(None) | Err(_) => break,
                },
                said = chat.recv() => match said {
                    Ok((from, text)) if from != player => format!("{from}: {text}\n"),
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => String::new(),
                    Err(broadcast::error::RecvError::Closed) => break,
                },
            };
        }
        if let Err(error) = self.sdk.remove_player_session(&player).await {
            warn!(%player, %error, "could not remove the player session");
        }
        info!(%player, "player left");
        let _ = self.chat.send(("*".into(), format!("{player} left")));
        let _ = self.events.send(Event::Left);
    }
}
