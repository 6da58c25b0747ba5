//! The SDK's public handle, the official SDK 5 server API (protocol spec §3 requests, §4
//! pushes, §6 lifecycle).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::de::DeserializeOwned;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tracing::{debug, info};

use crate::connection::{Link, Manager};
use crate::endpoint::{Endpoint, SDK_LANGUAGE, SDK_VERSION};
use crate::error::Error;
use crate::handler::{ServerHandler, dispatch_pushes, report_health};
use crate::message::{Push, Request};
use crate::model::{
    DescribePlayerSessionsRequest, DescribePlayerSessionsResult, GetComputeCertificateResult,
    GetFleetRoleCredentialsRequest, GetFleetRoleCredentialsResult, PlayerSessionCreationPolicy,
    StartMatchBackfillRequest, StartMatchBackfillResult, StopMatchBackfillRequest,
};
use crate::options::{ClientOptions, Timings};
use crate::params::{MANAGED_RESOURCE_PROCESS_ID, ProcessParameters, ServerParameters};
use crate::validate;

/// Fleet role credentials are fetched again when they expire within this margin.
const CREDENTIALS_REFRESH_MARGIN: Duration = Duration::from_secs(15 * 60);

/// Process state that pushes update.
#[derive(Default)]
struct State {
    game_session_id: Option<String>,
    termination_time_ms: Option<i64>,
    /// Where pushes go once `process_ready` installed the game's handler.
    callbacks: Option<mpsc::UnboundedSender<Push>>,
}

struct Inner {
    link: Link,
    timings: Timings,
    fleet_id: String,
    host_id: String,
    ready: AtomicBool,
    state: Arc<Mutex<State>>,
    role_credentials: Mutex<HashMap<String, GetFleetRoleCredentialsResult>>,
    on_managed_fleet: AtomicBool,
    cancel: CancellationToken,
    /// Stops heartbeats once the process is ending.
    health_stop: CancellationToken,
    tracker: TaskTracker,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Updates process state from a push and hands it to the game's handler, if installed.
async fn route_pushes(
    state: Arc<Mutex<State>>,
    fleet_id: String,
    mut pushes: mpsc::UnboundedReceiver<Push>,
    cancel: CancellationToken,
) {
    while let Some(Some(mut push)) = cancel.run_until_cancelled(pushes.recv()).await {
        let mut state = lock(&state);
        if let Push::TerminateProcess(ms) = push {
            state.termination_time_ms = Some(ms);
        }
        let Some(callbacks) = state.callbacks.clone() else {
            debug!(?push, "push before process_ready; ignored");
            continue;
        };
        if let Push::CreateGameSession(session) = &mut push {
            session.fleet_id.clone_from(&fleet_id);
            state.game_session_id = Some(session.game_session_id.clone());
        }
        // Sending only fails once the SDK is shutting down.
        let _ = callbacks.send(push);
    }
}

/// A connected server process: the official SDK 5 server API.
///
/// Cheap to clone; all clones share one connection. Call [`destroy`](Self::destroy) before
/// the process exits.
#[derive(Clone)]
pub struct GameLiftServer {
    inner: Arc<Inner>,
}

impl GameLiftServer {
    /// Connects to the service with `params` as given (`InitSDK`), retrying as the official
    /// SDKs do. Use [`ServerParameters::with_env_overrides`] for their env-wins behaviour.
    pub async fn init(params: ServerParameters, options: ClientOptions) -> Result<Self, Error> {
        let mut params = params;
        if params.process_id == MANAGED_RESOURCE_PROCESS_ID {
            params.process_id = uuid::Uuid::new_v4().to_string();
        }
        validate::server_parameters(&params)?;
        let tls = options.tls.client_config().await?;
        let endpoint = Endpoint::new(
            &params.web_socket_url,
            params.process_id,
            params.host_id.clone(),
            params.fleet_id.clone(),
            params.credentials,
        );
        let cancel = CancellationToken::new();
        let tracker = TaskTracker::new();
        let (pushes_tx, pushes) = mpsc::unbounded_channel();
        let timings = options.timings;
        let (manager, stream, link) = Manager::open(endpoint, tls, timings.clone(), pushes_tx, cancel.clone()).await?;
        tracker.spawn(manager.run(stream));
        let state = Arc::new(Mutex::new(State::default()));
        tracker.spawn(route_pushes(state.clone(), params.fleet_id.clone(), pushes, cancel.clone()));
        info!(fleet_id = %params.fleet_id, host_id = %params.host_id, "sdk initialized");
        Ok(Self {
            inner: Arc::new(Inner {
                link,
                timings,
                fleet_id: params.fleet_id,
                host_id: params.host_id,
                ready: AtomicBool::new(false),
                state,
                role_credentials: Mutex::new(HashMap::new()),
                on_managed_fleet: AtomicBool::new(true),
                health_stop: cancel.child_token(),
                cancel,
                tracker,
            }),
        })
    }

    /// Connects with parameters read from the `GAMELIFT_SDK_*` environment variables
    /// (`InitSDK()` without parameters), as set by the GameLift or openlift agent.
    pub async fn init_from_env(options: ClientOptions) -> Result<Self, Error> {
        Self::init(ServerParameters::from_env(), options).await
    }

    /// Tells the service this process can host a game session (`ActivateServerProcess`),
    /// installs `handler` for pushes and starts heartbeats.
    pub async fn process_ready<H: ServerHandler>(&self, params: ProcessParameters, handler: H) -> Result<(), Error> {
        validate::port(params.port)?;
        let (callbacks, pushes) = mpsc::unbounded_channel();
        {
            let mut state = lock(&self.inner.state);
            if state.callbacks.is_some() {
                return Err(Error::ProcessAlreadyReady);
            }
            state.callbacks = Some(callbacks);
        }
        let env = |key| std::env::var(key).ok().filter(|v: &String| !v.is_empty());
        let request = Request::ActivateServerProcess {
            sdk_version: SDK_VERSION,
            sdk_language: SDK_LANGUAGE,
            sdk_tool_name: env("GAMELIFT_SDK_TOOL_NAME"),
            sdk_tool_version: env("GAMELIFT_SDK_TOOL_VERSION"),
            port: params.port,
            log_paths: params.log_paths,
        };
        let timeout = self.inner.timings.activate_timeout;
        if let Err(error) = self.inner.link.call(request, timeout).await {
            lock(&self.inner.state).callbacks = None;
            return Err(error);
        }
        self.inner.ready.store(true, Ordering::SeqCst);
        let handler = Arc::new(handler);
        let tracker = &self.inner.tracker;
        tracker.spawn(dispatch_pushes(handler.clone(), pushes, tracker.clone(), self.inner.cancel.clone()));
        tracker.spawn(report_health(
            handler,
            self.inner.link.clone(),
            self.inner.timings.clone(),
            tracker.clone(),
            self.inner.health_stop.clone(),
        ));
        info!(port = params.port, "process ready");
        Ok(())
    }

    /// The game session pushed to this process, once there is one.
    pub fn get_game_session_id(&self) -> Option<String> {
        lock(&self.inner.state).game_session_id.clone()
    }

    /// When the service will stop this process, once it sent `TerminateProcess`.
    pub fn get_termination_time(&self) -> Result<SystemTime, Error> {
        let ms = lock(&self.inner.state).termination_time_ms.ok_or(Error::TerminationTimeNotSet)?;
        Ok(UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0)))
    }

    fn ready_session(&self) -> Result<String, Error> {
        if !self.inner.ready.load(Ordering::SeqCst) {
            return Err(Error::ProcessNotReady);
        }
        self.get_game_session_id().ok_or(Error::GameSessionIdNotSet)
    }

    fn ensure_ready(&self) -> Result<(), Error> {
        if self.inner.ready.load(Ordering::SeqCst) { Ok(()) } else { Err(Error::ProcessNotReady) }
    }

    async fn call(&self, request: Request) -> Result<serde_json::Value, Error> {
        self.inner.link.call(request, self.inner.timings.request_timeout).await
    }

    async fn call_for<T: DeserializeOwned>(&self, request: Request) -> Result<T, Error> {
        let action = request.action();
        let frame = self.call(request).await?;
        serde_json::from_value(frame).map_err(|source| Error::MalformedResponse { action, source })
    }

    /// Tells the service the game session is ready for players (`ActivateGameSession`).
    pub async fn activate_game_session(&self) -> Result<(), Error> {
        let game_session_id = self.ready_session()?;
        self.call(Request::ActivateGameSession { game_session_id }).await.map(drop)
    }

    /// Changes whether the game session accepts new player sessions.
    pub async fn update_player_session_creation_policy(
        &self,
        policy: PlayerSessionCreationPolicy,
    ) -> Result<(), Error> {
        let game_session_id = self.ready_session()?;
        self.call(Request::UpdatePlayerSessionCreationPolicy { game_session_id, player_session_policy: policy })
            .await
            .map(drop)
    }

    /// Validates a connecting player's session with the service (`AcceptPlayerSession`).
    pub async fn accept_player_session(&self, player_session_id: &str) -> Result<(), Error> {
        let game_session_id = self.ready_session()?;
        validate::player_session_id(player_session_id)?;
        self.call(Request::AcceptPlayerSession { game_session_id, player_session_id: player_session_id.to_string() })
            .await
            .map(drop)
    }

    /// Reports that a player left, freeing the slot (`RemovePlayerSession`).
    pub async fn remove_player_session(&self, player_session_id: &str) -> Result<(), Error> {
        let game_session_id = self.ready_session()?;
        validate::player_session_id(player_session_id)?;
        self.call(Request::RemovePlayerSession { game_session_id, player_session_id: player_session_id.to_string() })
            .await
            .map(drop)
    }

    /// Reads player sessions by game session, player or player session ID.
    pub async fn describe_player_sessions(
        &self,
        request: DescribePlayerSessionsRequest,
    ) -> Result<DescribePlayerSessionsResult, Error> {
        self.ensure_ready()?;
        let ids = [&request.game_session_id, &request.player_id, &request.player_session_id];
        if ids.iter().filter(|id| id.is_some()).count() != 1 {
            return Err(Error::InvalidParameter {
                name: "DescribePlayerSessionsRequest",
                reason: "set exactly one of GameSessionId, PlayerId, PlayerSessionId".into(),
            });
        }
        if let Some(id) = &request.game_session_id {
            validate::game_session_id("GameSessionId", id)?;
        }
        self.call_for(Request::DescribePlayerSessions(request)).await
    }

    /// Asks FlexMatch to fill open slots; the result arrives as an `UpdateGameSession` push.
    pub async fn start_match_backfill(
        &self,
        request: StartMatchBackfillRequest,
    ) -> Result<StartMatchBackfillResult, Error> {
        self.ensure_ready()?;
        validate::game_session_id("GameSessionArn", &request.game_session_arn)?;
        validate::gamelift_arn("MatchmakingConfigurationArn", &request.matchmaking_configuration_arn)?;
        validate::ticket_id(&request.ticket_id)?;
        self.call_for(Request::StartMatchBackfill(request)).await
    }

    /// Cancels a match backfill.
    pub async fn stop_match_backfill(&self, request: StopMatchBackfillRequest) -> Result<(), Error> {
        self.ensure_ready()?;
        validate::gamelift_arn("GameSessionArn", &request.game_session_arn)?;
        validate::gamelift_arn("MatchmakingConfigurationArn", &request.matchmaking_configuration_arn)?;
        validate::ticket_id(&request.ticket_id)?;
        self.call(Request::StopMatchBackfill(request)).await.map(drop)
    }

    /// Where the compute's TLS certificate is, and the compute's name.
    pub async fn get_compute_certificate(&self) -> Result<GetComputeCertificateResult, Error> {
        self.ensure_ready()?;
        self.call_for(Request::GetComputeCertificate {}).await
    }

    /// Temporary credentials of a fleet IAM role, cached until 15 minutes before they expire.
    pub async fn get_fleet_role_credentials(
        &self,
        mut request: GetFleetRoleCredentialsRequest,
    ) -> Result<GetFleetRoleCredentialsResult, Error> {
        if !self.inner.on_managed_fleet.load(Ordering::SeqCst) {
            return Err(Error::NotManagedFleet);
        }
        let margin = i64::try_from(CREDENTIALS_REFRESH_MARGIN.as_millis()).unwrap_or(i64::MAX);
        {
            let mut cache = lock(&self.inner.role_credentials);
            match cache.get(&request.role_arn) {
                Some(cached) if cached.expiration - now_ms() > margin => return Ok(cached.clone()),
                Some(_) => {
                    cache.remove(&request.role_arn);
                }
                None => {}
            }
        }
        if request.role_session_name.is_empty() {
            let name = format!("{}-{}", self.inner.fleet_id, self.inner.host_id);
            request.role_session_name = name.chars().take(64).collect();
        }
        validate::role_session_name(&request.role_session_name)?;
        self.ensure_ready()?;
        let role_arn = request.role_arn.clone();
        let result: GetFleetRoleCredentialsResult = self.call_for(Request::GetFleetRoleCredentials(request)).await?;
        if result.access_key_id.is_empty() {
            self.inner.on_managed_fleet.store(false, Ordering::SeqCst);
            return Err(Error::NotManagedFleet);
        }
        lock(&self.inner.role_credentials).insert(role_arn, result.clone());
        Ok(result)
    }

    /// Tells the service this process is shutting down (`TerminateServerProcess`) and stops
    /// heartbeats. Exit soon after.
    pub async fn process_ending(&self) -> Result<(), Error> {
        self.call(Request::TerminateServerProcess {}).await?;
        self.inner.ready.store(false, Ordering::SeqCst);
        self.inner.health_stop.cancel();
        info!("process ending");
        Ok(())
    }

    /// Stops every SDK task and closes the connection; waits until all of them ended.
    pub async fn destroy(&self) {
        self.inner.ready.store(false, Ordering::SeqCst);
        self.inner.cancel.cancel();
        self.inner.tracker.close();
        self.inner.tracker.wait().await;
        debug!("sdk destroyed");
    }
}
