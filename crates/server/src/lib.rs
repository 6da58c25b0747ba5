//! The openlift control plane: configuration, credentials, the HTTP front door and
//! the GameLift operations behind it.
//!
//! [`serve`] runs everything on a listener the caller bound, until `shutdown` is
//! cancelled, so tests bind port 0 and talk to the real server.

pub mod api;
pub mod app;
pub mod config;
pub mod credentials;
mod http;

use std::sync::Arc;

use openlift_core::clock::{Clock, SystemClock};
use openlift_core::ids::ArnScope;
use openlift_core::paging::PageTokens;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::Config;
use crate::credentials::Origin;

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
    let addr = listener.local_addr()?;
    let data_dir = config.data_dir.clone();
    let configured = config.credentials.clone();
    let (credentials, origin) = tokio::task::spawn_blocking(move || credentials::resolve(configured, &data_dir))
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
    let store = openlift_store::open(&config.database_url()).await?;
    let page_key = store.secret("page-token-key", PAGE_TOKEN_KEY_LEN).await?;
    let app = App {
        store,
        clock,
        scope: ArnScope { region: config.region.clone(), account_id: config.account_id.clone() },
        credentials: app::credential_table(credentials),
        page_tokens: PageTokens::new(page_key),
        sdk_endpoint: config.sdk_endpoint.clone().unwrap_or_else(|| format!("ws://{addr}")),
    };
    let router = http::router(Arc::new(app));
    tracing::info!(address = %addr, region = %config.region, "openlift listening on http://{addr}, ready");
    axum::serve(listener, router).with_graceful_shutdown(shutdown.cancelled_owned()).await?;
    tracing::info!("openlift stopped");
    Ok(())
}
