//! The openlift control plane: configuration, credentials, the HTTP front door and
//! the GameLift operations behind it.
//!
//! [`serve`] runs everything on a listener the caller bound, until `shutdown` is
//! cancelled, so tests bind port 0 and talk to the real server. One port carries the API
//! (`http://` and `https://`), the game servers' SDK endpoint (`ws://` and `wss://`) and
//! the host agents' endpoint (the same with the path [`agent::AGENT_PATH`]).

pub mod agent;
pub mod api;
pub mod app;
mod cas;
pub mod config;
pub mod credentials;
#[cfg(test)]
mod fault_store;
pub mod fleet_cache;
pub mod front;
pub mod hosting;
#[cfg(test)]
mod layers;
pub mod locks;
pub mod logs;
pub mod sdk;
pub mod service;
mod socket;
pub mod tasks;
mod websocket;
pub mod workers;

use std::net::SocketAddr;
use std::sync::Arc;

use openlift_core::clock::{Clock, SystemClock};
use openlift_core::ids::ArnScope;
use openlift_core::paging::PageTokens;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::Config;
use crate::credentials::Origin;
use crate::service::common::Paging;
use crate::service::{Parts, Services};

/// Length in bytes of the key that signs `NextToken`s.
const PAGE_TOKEN_KEY_LEN: usize = 32;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The store could not be opened.
    #[error("opening the store: {0}")]
    Store(#[from] openlift_store::StoreError),
    /// Credentials could not be loaded or generated.
    #[error(transparent)]
    Credentials(#[from] credentials::CredentialsError),
    /// The connection limits cannot work.
    #[error("connection limits: {0}")]
    Limits(#[from] front::admission::LimitsError),
    /// The TLS certificate could not be loaded or generated.
    #[error(transparent)]
    Tls(#[from] front::tls::TlsError),
    /// Serving on the listener failed.
    #[error("serving: {0}")]
    Io(#[from] std::io::Error),
}

/// Runs the control plane on `listener` until `shutdown` is cancelled, then finishes
/// the requests in flight and returns.
pub async fn serve(config: Config, listener: TcpListener, shutdown: CancellationToken) -> Result<(), ServeError> {
    serve_with_clock(config, listener, shutdown, Arc::new(SystemClock)).await
}

/// [`serve`] with an injected clock, so tests control time.
pub async fn serve_with_clock(
    config: Config,
    listener: TcpListener,
    shutdown: CancellationToken,
    clock: Arc<dyn Clock>,
) -> Result<(), ServeError> {
    let server = Server::build(config, listener.local_addr()?, clock).await?;
    server.run(listener, shutdown).await
}

/// A control plane ready to serve: its state and its TLS configuration.
///
/// [`serve`] is `build` then `run`; tests that need the state (the SDK endpoint's process
/// registry, say) build the server themselves and keep [`Server::app`].
pub struct Server {
    app: Arc<App>,
    tls: Arc<rustls::ServerConfig>,
    body_timeout: std::time::Duration,
    workers: Arc<workers::Workers>,
}

impl Server {
    /// Loads credentials and the TLS certificate (generating them on first start), opens
    /// the store, assembles the state and restores the ready server processes recorded
    /// before a restart; `addr` is where the server will listen.
    pub async fn build(config: Config, addr: SocketAddr, clock: Arc<dyn Clock>) -> Result<Self, ServeError> {
        let limits = front::admission::Limits::from_config(&config)?;
        let sdk_endpoint = config.sdk_endpoint.clone().unwrap_or_else(|| format!("ws://{addr}"));
        let agent_endpoint = agent::endpoint_for(&sdk_endpoint);
        let data_dir = config.data_dir.clone();
        let configured = config.credentials.clone();
        let (tls_cert, tls_key) = (config.tls_cert.clone(), config.tls_key.clone());
        let names = front::tls::certificate_names(addr, &sdk_endpoint);
        let ((credentials, origin), (tls, cert_origin)) = tokio::task::spawn_blocking(move || {
            let credentials = credentials::resolve(configured, &data_dir)?;
            let tls = front::tls::server_config(tls_cert.as_deref(), tls_key.as_deref(), &data_dir, names)?;
            Ok::<_, ServeError>((credentials, tls))
        })
        .await
        .map_err(|e| ServeError::Io(std::io::Error::other(e)))??;
        match &origin {
            Origin::Configured => tracing::info!(keys = credentials.len(), "using configured credentials"),
            Origin::Stored(path) => tracing::info!(file = %path.display(), "using credentials stored in the data dir"),
            Origin::Generated(path) => tracing::info!(
                file = %path.display(),
                access_key_id = %credentials[0].access_key_id,
                "generated credentials; use them with AWS_SHARED_CREDENTIALS_FILE={}",
                path.display()
            ),
        }
        tracing::info!(certificate = ?cert_origin, "TLS ready on the listen port");
        let store = openlift_store::open(&config.database_url()).await?;
        let page_key = store.secret("page-token-key", PAGE_TOKEN_KEY_LEN).await?;
        let paging = Paging { tokens: PageTokens::new(page_key) };
        let sdk = sdk::endpoint::SdkEndpoint::new(config.process_heartbeat_timeout);
        let agents = Arc::new(hosting::agents::Agents::new(config.agent_heartbeat_timeout));
        let locks = Arc::new(locks::KeyedLocks::default());
        let services = Services::new(Parts {
            store: store.clone(),
            clock: clock.clone(),
            region: config.region.clone(),
            paging: paging.clone(),
            locks: locks.clone(),
            hosting: Arc::new(hosting::Local::new(sdk.processes.clone(), agents.clone())),
        });
        let app = App {
            store,
            clock,
            scope: ArnScope { region: config.region.clone(), account_id: config.account_id.clone() },
            credentials: app::credential_table(credentials),
            paging,
            sdk_endpoint,
            sdk,
            agent_endpoint,
            agents,
            locks,
            services,
            connections: front::admission::Admission::new(limits),
        };
        sdk::durable::restore(&app).await?;
        agent::restore(&app).await?;
        let workers = workers::Workers::new(app.clock.clone(), app.sdk.tasks.clone());
        Ok(Server { app: Arc::new(app), tls, body_timeout: config.body_timeout, workers })
    }

    /// The shared state every request and SDK connection uses.
    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// The background workers' runner, whose statuses an admin surface reads.
    pub fn workers(&self) -> &Arc<workers::Workers> {
        &self.workers
    }

    /// Serves the API and the SDK endpoint (plain and TLS) on `listener` until `shutdown`
    /// is cancelled, then stops every task and returns.
    pub async fn run(self, listener: TcpListener, shutdown: CancellationToken) -> Result<(), ServeError> {
        let addr = listener.local_addr()?;
        let region = self.app.scope.region.clone();
        let tasks = self.app.sdk.tasks.clone();
        let app = self.app.clone();
        self.workers.spawn("sdk-sweep", sdk::sweep::SWEEP_INTERVAL, move || sdk::sweep::run(app.clone()));
        let app = self.app.clone();
        self.workers.spawn("agent-sweep", agent::SWEEP_INTERVAL, move || {
            let app = app.clone();
            async move {
                agent::sweep(&app).await;
                Ok(None)
            }
        });
        let door = front::accept::FrontDoor {
            admission: self.app.connections.clone(),
            router: front::http::router(self.app, self.workers.clone(), self.body_timeout),
            tls: tokio_rustls::TlsAcceptor::from(self.tls),
            tracker: tasks.tracker,
            cancel: tasks.cancel,
        };
        tracing::info!(address = %addr, region = %region, "openlift listening on http://{addr} and https://{addr}, ready");
        front::accept::serve(door, listener, shutdown).await;
        tracing::info!("openlift stopped");
        Ok(())
    }
}
