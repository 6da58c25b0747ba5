//! The control-plane calls the agent makes at startup and while it runs, as the GameLift
//! Agent makes them (`server-sdk-protocol.md` section 9): RegisterCompute,
//! GetComputeAuthToken (`control-plane-api.md` section 7.6) and DescribeRuntimeConfiguration
//! (section 7.8).
//!
//! [`ControlPlane`] is the seam: [`GameLiftControlPlane`] calls a real GameLift API (ours or
//! AWS's) with `aws-sdk-gamelift`. The rest of the conversation (heartbeats, process
//! terminations, readiness) goes over the agent WebSocket ([`crate::link`]).
//!
//! Restarting the agent on a compute that is still registered makes RegisterCompute fail
//! with `ConflictException`; the agent then reads the existing registration with
//! DescribeCompute and reuses it (warning if its IP address or location differ from the
//! flags: DeregisterCompute first to change them).

use std::time::SystemTime;

use aws_sdk_gamelift::error::DisplayErrorContext;

/// Who this compute is: the RegisterCompute parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// The Anywhere fleet.
    pub fleet_id: String,
    /// The compute's name, unique in the fleet.
    pub compute_name: String,
    /// The fleet's custom location this compute is in.
    pub location: String,
    /// The address game clients connect to.
    pub ip_address: String,
    /// An optional DNS name for it.
    pub dns_name: Option<String>,
}

/// A registered compute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredCompute {
    /// `GameLiftServiceSdkEndpoint`: the WebSocket URL server processes connect to.
    pub sdk_endpoint: String,
    /// `GameLiftAgentEndpoint`: the WebSocket URL the agent connects to, if the control
    /// plane has one.
    pub agent_endpoint: Option<String>,
    /// Whether an existing registration was reused after a `ConflictException`.
    pub reused: bool,
}

/// A compute auth token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComputeToken {
    /// The token server processes present (`GAMELIFT_SDK_AUTH_TOKEN`).
    pub token: String,
    /// When it stops being accepted, if the control plane said.
    pub expires_at: Option<SystemTime>,
}

/// One `ServerProcesses` entry as the control plane returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerProcess {
    /// `LaunchPath`.
    pub launch_path: String,
    /// `Parameters` (empty if absent).
    pub parameters: String,
    /// `ConcurrentExecutions`.
    pub concurrent_executions: usize,
}

/// A failed control-plane call.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    /// The call failed (transport error or service error).
    #[error("{operation} failed: {message}")]
    Call {
        /// The operation.
        operation: &'static str,
        /// The error with its causes.
        message: String,
    },
    /// The response lacked a field the agent needs.
    #[error("{operation} returned no {field}")]
    Missing {
        /// The operation.
        operation: &'static str,
        /// The missing field.
        field: &'static str,
    },
}

/// The control-plane operations the agent needs.
#[async_trait::async_trait]
pub trait ControlPlane: Send + Sync + 'static {
    /// Registers this compute, or reuses its existing registration.
    async fn register_compute(&self) -> Result<RegisteredCompute, ControlError>;
    /// A fresh auth token for this compute.
    async fn compute_auth_token(&self) -> Result<ComputeToken, ControlError>;
    /// The fleet's current `RuntimeConfiguration.ServerProcesses`.
    async fn runtime_configuration(&self) -> Result<Vec<ServerProcess>, ControlError>;
}

/// [`ControlPlane`] over the GameLift API.
#[derive(Debug, Clone)]
pub struct GameLiftControlPlane {
    client: aws_sdk_gamelift::Client,
    registration: Registration,
}

impl GameLiftControlPlane {
    /// Calls go through `client` on behalf of the compute `registration` describes.
    pub fn new(client: aws_sdk_gamelift::Client, registration: Registration) -> Self {
        GameLiftControlPlane { client, registration }
    }

    async fn describe_compute(&self) -> Result<RegisteredCompute, ControlError> {
        let r = &self.registration;
        let output = self
            .client
            .describe_compute()
            .fleet_id(&r.fleet_id)
            .compute_name(&r.compute_name)
            .send()
            .await
            .map_err(|e| call_error("DescribeCompute", e))?;
        let compute =
            output.compute().ok_or(ControlError::Missing { operation: "DescribeCompute", field: "Compute" })?;
        if compute.ip_address() != Some(r.ip_address.as_str()) || compute.location() != Some(r.location.as_str()) {
            tracing::warn!(
                compute = %r.compute_name,
                registered_ip = ?compute.ip_address(),
                registered_location = ?compute.location(),
                "reusing a registration whose IP address or location differ from the flags; deregister the compute to change them"
            );
        }
        let sdk_endpoint = compute
            .game_lift_service_sdk_endpoint()
            .ok_or(ControlError::Missing { operation: "DescribeCompute", field: "GameLiftServiceSdkEndpoint" })?;
        let agent_endpoint = compute.game_lift_agent_endpoint().map(str::to_owned);
        Ok(RegisteredCompute { sdk_endpoint: sdk_endpoint.to_owned(), agent_endpoint, reused: true })
    }
}

#[async_trait::async_trait]
impl ControlPlane for GameLiftControlPlane {
    async fn register_compute(&self) -> Result<RegisteredCompute, ControlError> {
        let r = &self.registration;
        let result = self
            .client
            .register_compute()
            .fleet_id(&r.fleet_id)
            .compute_name(&r.compute_name)
            .location(&r.location)
            .ip_address(&r.ip_address)
            .set_dns_name(r.dns_name.clone())
            .send()
            .await;
        match result {
            Ok(output) => {
                let compute = output.compute();
                let endpoint =
                    compute.and_then(|c| c.game_lift_service_sdk_endpoint()).ok_or(ControlError::Missing {
                        operation: "RegisterCompute",
                        field: "GameLiftServiceSdkEndpoint",
                    })?;
                let agent_endpoint = compute.and_then(|c| c.game_lift_agent_endpoint()).map(str::to_owned);
                Ok(RegisteredCompute { sdk_endpoint: endpoint.to_owned(), agent_endpoint, reused: false })
            }
            Err(e) if e.as_service_error().is_some_and(|e| e.is_conflict_exception()) => {
                tracing::info!(compute = %r.compute_name, "compute already registered; reusing its registration");
                self.describe_compute().await
            }
            Err(e) => Err(call_error("RegisterCompute", e)),
        }
    }

    async fn compute_auth_token(&self) -> Result<ComputeToken, ControlError> {
        let r = &self.registration;
        let output = self
            .client
            .get_compute_auth_token()
            .fleet_id(&r.fleet_id)
            .compute_name(&r.compute_name)
            .send()
            .await
            .map_err(|e| call_error("GetComputeAuthToken", e))?;
        let token = output
            .auth_token()
            .ok_or(ControlError::Missing { operation: "GetComputeAuthToken", field: "AuthToken" })?;
        let expires_at = output.expiration_timestamp().and_then(|t| SystemTime::try_from(*t).ok());
        Ok(ComputeToken { token: token.to_owned(), expires_at })
    }

    async fn runtime_configuration(&self) -> Result<Vec<ServerProcess>, ControlError> {
        let output = self
            .client
            .describe_runtime_configuration()
            .fleet_id(&self.registration.fleet_id)
            .send()
            .await
            .map_err(|e| call_error("DescribeRuntimeConfiguration", e))?;
        let processes = output.runtime_configuration().map(|c| c.server_processes()).unwrap_or_default();
        Ok(processes
            .iter()
            .map(|p| ServerProcess {
                launch_path: p.launch_path().unwrap_or_default().to_owned(),
                parameters: p.parameters().unwrap_or_default().to_owned(),
                concurrent_executions: p.concurrent_executions().and_then(|n| usize::try_from(n).ok()).unwrap_or(1),
            })
            .collect())
    }
}

fn call_error<E: std::error::Error>(operation: &'static str, error: E) -> ControlError {
    ControlError::Call { operation, message: DisplayErrorContext(&error).to_string() }
}
