//! One task per agent WebSocket (`server-sdk-protocol.md` section 9), driven by
//! [`crate::socket`]; this module is what the agent endpoint says.
//!
//! * Messages may be up to [`MAX_MESSAGE_BYTES`], room for `UploadProcessLogs` with the
//!   agent's 3 MB of logs in base64.
//! * A connection replaced by a newer one of the same agent is cut. The connection of a
//!   deregistered compute stays open, so its agent can report the endings of its shutdown.

use std::sync::Arc;

use hyper::upgrade::OnUpgrade;

use super::Attached;
use super::handlers::{self, Caller};
use super::query::AgentQuery;
use crate::app::App;
use crate::sdk::messages::{self, Failure};
use crate::socket::{self, Conversation, Settings, Wiring};

/// Largest message accepted.
pub const MAX_MESSAGE_BYTES: usize = 8 * 1024 * 1024;

/// How agent connections are driven.
const SETTINGS: Settings = Settings {
    endpoint: "agent",
    max_message_bytes: MAX_MESSAGE_BYTES,
    read_buffer_bytes: None,
    budget: None,
    ending_reason: "agent connection ended",
    outlives_queue: true,
};

/// One agent's side of the conversation.
struct Agent<'a> {
    app: &'a App,
    caller: Caller<'a>,
}

impl Conversation for Agent<'_> {
    async fn answer(&mut self, text: &str) -> Option<(String, bool)> {
        answer(self.app, self.caller, text).await.map(|reply| (reply, false))
    }
}

/// Runs one agent connection from the upgrade until it ends, then detaches it.
pub(super) async fn run(app: Arc<App>, on_upgrade: OnUpgrade, query: AgentQuery, attached: Attached) {
    let Attached { generation, outbound, kill } = attached;
    let (fleet_id, compute_name) = (query.fleet_id.as_str(), query.compute_name.as_str());
    let wiring = Wiring { outbound, kill, shutdown: app.sdk.tasks.cancel.clone() };
    let mut agent = Agent { app: &app, caller: Caller { fleet_id, compute_name, generation } };
    socket::drive(SETTINGS, compute_name, on_upgrade, wiring, &mut agent).await;
    tracing::info!(fleet_id, compute = compute_name, generation, "agent connection closed");
    app.agents.detach(fleet_id, compute_name, generation);
}

/// The response to one text frame; `None` for a frame that cannot be answered.
async fn answer(app: &App, caller: Caller<'_>, text: &str) -> Option<String> {
    let inbound = match messages::parse(text) {
        Ok(inbound) => inbound,
        Err(why) => {
            tracing::info!(compute = caller.compute_name, ?why, "agent frame ignored");
            return None;
        }
    };
    let action = inbound.action.as_deref();
    let outcome = match action {
        Some(action) => handlers::handle(app, caller, action, &inbound.body).await,
        None => Err(Failure::bad_request("Action is missing.")),
    };
    if let Err(failure) = &outcome {
        tracing::info!(compute = caller.compute_name, action = ?action, request_id = %inbound.request_id,
            status = failure.status, message = %failure.message, "agent request refused");
    }
    Some(messages::reply(action, &inbound.request_id, outcome))
}
