//! What happens to server processes, named as the GameLift Agent names it
//! (`server-sdk-protocol.md` section 9, `NotifyServerProcessTermination`, and the
//! `EventCode` enum of `control-plane-api.md`).
//!
//! Classification of an ended process:
//! * exit status 0, not stopped by the agent: [`Termination::Normal`] (no event code,
//!   `NORMAL_TERMINATION`);
//! * non-zero exit status or killed by a signal the agent did not send:
//!   [`Termination::Crashed`] (`SERVER_PROCESS_CRASHED`);
//! * stopped by the agent: the reason it was stopped ([`Termination::ForceTerminated`],
//!   [`Termination::TerminatedUnhealthy`], [`Termination::SdkInitializationTimeout`]),
//!   whatever the exit status.
//!
//! A process that does not exit within the grace period after SIGTERM additionally produces
//! [`ProcessEventKind::ExitTimeout`] (`SERVER_PROCESS_PROCESS_EXIT_TIMEOUT`) before it is
//! SIGKILLed, and a launch that fails (missing or non-executable `LaunchPath`) produces
//! [`ProcessEventKind::LaunchFailed`] (`SERVER_PROCESS_INVALID_PATH`).

use std::fmt;
use std::process::ExitStatus;

/// Why a server process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Termination {
    /// It exited with status 0 on its own.
    Normal,
    /// It exited with a non-zero status or was killed by a signal the agent did not send.
    Crashed,
    /// The agent stopped it: `force_terminate` or agent shutdown.
    ForceTerminated,
    /// The agent stopped it because the control plane reported it unhealthy.
    TerminatedUnhealthy,
    /// The agent stopped it because it did not become ready within the readiness timeout.
    SdkInitializationTimeout,
}

impl Termination {
    /// The fleet event code GameLift records for this ending, if any.
    pub fn event_code(self) -> Option<&'static str> {
        match self {
            Termination::Normal => None,
            Termination::Crashed => Some("SERVER_PROCESS_CRASHED"),
            Termination::ForceTerminated => Some("SERVER_PROCESS_FORCE_TERMINATED"),
            Termination::TerminatedUnhealthy => Some("SERVER_PROCESS_TERMINATED_UNHEALTHY"),
            Termination::SdkInitializationTimeout => Some("SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT"),
        }
    }

    /// The `TerminationReason` the GameLift Agent sends in `NotifyServerProcessTermination`.
    pub fn termination_reason(self) -> &'static str {
        self.event_code().unwrap_or("NORMAL_TERMINATION")
    }
}

/// How a process's leader exited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// It exited with this status code.
    Code(i32),
    /// It was killed by this signal number.
    Signal(i32),
}

impl ExitKind {
    /// The exit as reported by the operating system.
    pub fn from_status(status: ExitStatus) -> Self {
        use std::os::unix::process::ExitStatusExt;
        match (status.code(), status.signal()) {
            (Some(code), _) => ExitKind::Code(code),
            (None, Some(signal)) => ExitKind::Signal(signal),
            // Neither is only possible for stopped/continued statuses, which `wait` never returns.
            (None, None) => ExitKind::Code(-1),
        }
    }

    /// Whether the process ended on its own without an error.
    pub fn is_success(self) -> bool {
        self == ExitKind::Code(0)
    }
}

impl fmt::Display for ExitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExitKind::Code(code) => write!(f, "exit status {code}"),
            ExitKind::Signal(signal) => write!(f, "signal {signal}"),
        }
    }
}

/// Something that happened to one server process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessEvent {
    /// The process ID the agent gave it (`GAMELIFT_SDK_PROCESS_ID`).
    pub process_id: String,
    /// The runtime configuration entry's `LaunchPath`.
    pub launch_path: String,
    /// What happened.
    pub kind: ProcessEventKind,
}

/// The kinds of [`ProcessEvent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProcessEventKind {
    /// The process was started.
    Started {
        /// Its operating-system process ID (also its process group ID).
        pid: u32,
        /// The game port it was given, if its parameters asked for one.
        port: Option<u16>,
    },
    /// The process could not be started (`SERVER_PROCESS_INVALID_PATH`).
    LaunchFailed {
        /// Why.
        error: String,
    },
    /// The process did not exit within the grace period after SIGTERM and is being
    /// SIGKILLed (`SERVER_PROCESS_PROCESS_EXIT_TIMEOUT`).
    ExitTimeout,
    /// The process has exited and been reaped.
    Ended {
        /// Why it ended.
        termination: Termination,
        /// How its leader exited.
        exit: ExitKind,
    },
}

impl ProcessEventKind {
    /// The fleet event code GameLift records for this event, if any.
    pub fn event_code(&self) -> Option<&'static str> {
        match self {
            ProcessEventKind::Started { .. } => None,
            ProcessEventKind::LaunchFailed { .. } => Some("SERVER_PROCESS_INVALID_PATH"),
            ProcessEventKind::ExitTimeout => Some("SERVER_PROCESS_PROCESS_EXIT_TIMEOUT"),
            ProcessEventKind::Ended { termination, .. } => termination.event_code(),
        }
    }
}

/// Logs an event with `tracing`: crashes and failures as warnings, the rest as information.
pub fn log(event: &ProcessEvent) {
    let (id, path) = (&event.process_id, &event.launch_path);
    let code = event.kind.event_code().unwrap_or("");
    match &event.kind {
        ProcessEventKind::Started { pid, port } => {
            tracing::info!(process_id = %id, launch_path = %path, pid, port = ?port, "server process started")
        }
        ProcessEventKind::LaunchFailed { error } => {
            tracing::warn!(process_id = %id, launch_path = %path, event_code = code, error = %error, "launch failed")
        }
        ProcessEventKind::ExitTimeout => {
            tracing::warn!(process_id = %id, event_code = code, "server process ignored SIGTERM; sending SIGKILL")
        }
        ProcessEventKind::Ended { termination: Termination::Normal, exit } => {
            tracing::info!(process_id = %id, launch_path = %path, exit = %exit, "server process ended")
        }
        ProcessEventKind::Ended { exit, .. } => {
            tracing::warn!(process_id = %id, launch_path = %path, exit = %exit, event_code = code, "server process ended")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminations_carry_the_gamelift_agent_names() {
        assert_eq!(Termination::Normal.event_code(), None);
        assert_eq!(Termination::Normal.termination_reason(), "NORMAL_TERMINATION");
        assert_eq!(Termination::Crashed.termination_reason(), "SERVER_PROCESS_CRASHED");
        assert_eq!(
            Termination::SdkInitializationTimeout.event_code(),
            Some("SERVER_PROCESS_SDK_INITIALIZATION_TIMEOUT")
        );
        assert_eq!(ProcessEventKind::ExitTimeout.event_code(), Some("SERVER_PROCESS_PROCESS_EXIT_TIMEOUT"));
    }
}
