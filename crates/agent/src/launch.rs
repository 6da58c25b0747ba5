//! What to launch: the runtime configuration's `ServerProcesses` entries
//! (`control-plane-api.md` section 7.8) turned into argument vectors, and the game ports
//! handed to them.
//!
//! Conventions (GameLift itself has none for these):
//! * `Parameters` is split into arguments like a POSIX shell splits a simple command line:
//!   whitespace separates arguments, `'…'` quotes literally, `"…"` quotes with `\"`, `\\`
//!   and `\$`/`` \` `` escapes, and a backslash outside quotes escapes the next character. There
//!   is no expansion of variables, globs or `~`. (The GameLift Agent splits on spaces only.)
//! * Every `{port}` in an argument is replaced by a port the agent picks from its port range
//!   that no other live process holds and that can be bound (TCP and UDP) at launch time; the
//!   port is also exported as `OPENLIFT_GAME_PORT`. So the sample game runs as
//!   `LaunchPath=/path/openlift-sample-game Parameters="--port {port}"`.

use std::collections::HashSet;
use std::fmt;
use std::ops::RangeInclusive;
use std::str::FromStr;

/// The placeholder replaced by a free game port.
pub const PORT_PLACEHOLDER: &str = "{port}";

/// One `ServerProcesses` entry of a runtime configuration, ready to launch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchSpec {
    /// The executable.
    pub launch_path: String,
    /// `Parameters` as given (the identity of the entry, together with `launch_path`).
    pub parameters: String,
    /// `Parameters` split into arguments, placeholders still in place.
    pub args: Vec<String>,
    /// How many copies should run at once (`ConcurrentExecutions`).
    pub concurrent_executions: usize,
}

/// Why a `ServerProcesses` entry cannot be launched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LaunchSpecError {
    /// `LaunchPath` is empty.
    #[error("LaunchPath is empty")]
    EmptyLaunchPath,
    /// A quote in `Parameters` is never closed.
    #[error("unterminated {0} quote in Parameters")]
    UnterminatedQuote(char),
    /// `Parameters` ends with a lone backslash.
    #[error("Parameters end with a lone backslash")]
    TrailingBackslash,
}

impl LaunchSpec {
    /// Validates an entry and splits its parameters (see the module documentation).
    pub fn new(launch_path: &str, parameters: &str, concurrent_executions: usize) -> Result<Self, LaunchSpecError> {
        if launch_path.trim().is_empty() {
            return Err(LaunchSpecError::EmptyLaunchPath);
        }
        Ok(LaunchSpec {
            launch_path: launch_path.to_owned(),
            parameters: parameters.to_owned(),
            args: split_parameters(parameters)?,
            concurrent_executions,
        })
    }

    /// Whether launching this entry needs a game port.
    pub fn needs_port(&self) -> bool {
        self.args.iter().any(|arg| arg.contains(PORT_PLACEHOLDER))
    }

    /// The arguments with `{port}` replaced by `port`.
    pub fn args_with_port(&self, port: Option<u16>) -> Vec<String> {
        match port {
            Some(port) => self.args.iter().map(|arg| arg.replace(PORT_PLACEHOLDER, &port.to_string())).collect(),
            None => self.args.clone(),
        }
    }
}

/// Splits `Parameters` into arguments (see the module documentation for the rules).
pub fn split_parameters(text: &str) -> Result<Vec<String>, LaunchSpecError> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_arg = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            c if c.is_whitespace() => {
                if in_arg {
                    args.push(std::mem::take(&mut current));
                    in_arg = false;
                }
            }
            '\'' => {
                in_arg = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => current.push(c),
                        None => return Err(LaunchSpecError::UnterminatedQuote('\'')),
                    }
                }
            }
            '"' => {
                in_arg = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => match chars.next() {
                            Some(c @ ('"' | '\\' | '$' | '`')) => current.push(c),
                            Some(c) => {
                                current.push('\\');
                                current.push(c);
                            }
                            None => return Err(LaunchSpecError::UnterminatedQuote('"')),
                        },
                        Some(c) => current.push(c),
                        None => return Err(LaunchSpecError::UnterminatedQuote('"')),
                    }
                }
            }
            '\\' => {
                in_arg = true;
                current.push(chars.next().ok_or(LaunchSpecError::TrailingBackslash)?);
            }
            c => {
                in_arg = true;
                current.push(c);
            }
        }
    }
    if in_arg {
        args.push(current);
    }
    Ok(args)
}

/// An inclusive range of game ports, written `7000-7999` (or a single port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PortRange(RangeInclusive<u16>);

impl PortRange {
    /// The ports `first..=last`.
    pub fn new(first: u16, last: u16) -> Self {
        PortRange(first..=last)
    }

    /// The range's ports.
    pub fn ports(&self) -> RangeInclusive<u16> {
        self.0.clone()
    }
}

impl Default for PortRange {
    fn default() -> Self {
        PortRange::new(7000, 7999)
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.0.start(), self.0.end())
    }
}

impl FromStr for PortRange {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let (first, last) = text.split_once('-').unwrap_or((text, text));
        let parse =
            |p: &str| p.trim().parse::<u16>().map_err(|_| format!("{text:?} is not a port range like 7000-7999"));
        let (first, last) = (parse(first)?, parse(last)?);
        if first == 0 || first > last {
            return Err(format!("{text:?} is not a port range like 7000-7999"));
        }
        Ok(PortRange::new(first, last))
    }
}

/// Picks a port in `range` not in `taken` that can be bound on all interfaces right now,
/// over TCP and UDP, starting the search at `cursor` so ports are reused last.
pub async fn free_port(range: &PortRange, taken: &HashSet<u16>, cursor: u16) -> Option<u16> {
    let ports = range.ports();
    let (first, last) = (*ports.start(), *ports.end());
    let start = cursor.clamp(first, last);
    for port in (start..=last).chain(first..start) {
        if !taken.contains(&port) && bindable(port).await {
            return Some(port);
        }
    }
    None
}

async fn bindable(port: u16) -> bool {
    tokio::net::TcpListener::bind(("0.0.0.0", port)).await.is_ok()
        && tokio::net::UdpSocket::bind(("0.0.0.0", port)).await.is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_split_like_a_simple_shell_command_line() {
        assert_eq!(split_parameters("").unwrap(), Vec::<String>::new());
        assert_eq!(split_parameters("  --port {port}  -v ").unwrap(), ["--port", "{port}", "-v"]);
        assert_eq!(split_parameters(r#"--name "a b" 'c "d"' e\ f"#).unwrap(), ["--name", "a b", "c \"d\"", "e f"]);
        assert_eq!(split_parameters(r#""say \"hi\" \n" '' x"#).unwrap(), ["say \"hi\" \\n", "", "x"]);
        assert_eq!(split_parameters("a'b'\"c\"").unwrap(), ["abc"]);
    }

    #[test]
    fn broken_quoting_is_rejected() {
        assert_eq!(split_parameters("'open"), Err(LaunchSpecError::UnterminatedQuote('\'')));
        assert_eq!(split_parameters("\"open"), Err(LaunchSpecError::UnterminatedQuote('"')));
        assert_eq!(split_parameters("end\\"), Err(LaunchSpecError::TrailingBackslash));
    }

    #[test]
    fn the_port_placeholder_is_replaced_in_every_argument() {
        let spec = LaunchSpec::new("/game", "--port {port} --url=ws://h:{port}", 1).unwrap();
        assert!(spec.needs_port());
        assert_eq!(spec.args_with_port(Some(7001)), ["--port", "7001", "--url=ws://h:7001"]);
        assert!(!LaunchSpec::new("/game", "-x", 1).unwrap().needs_port());
        assert_eq!(LaunchSpec::new(" ", "", 1), Err(LaunchSpecError::EmptyLaunchPath));
    }

    #[test]
    fn port_ranges_parse_and_print() {
        assert_eq!("7000-7999".parse::<PortRange>().unwrap(), PortRange::new(7000, 7999));
        assert_eq!("7777".parse::<PortRange>().unwrap(), PortRange::new(7777, 7777));
        assert!("9-1".parse::<PortRange>().is_err());
        assert!("0-10".parse::<PortRange>().is_err());
        assert_eq!(PortRange::default().to_string(), "7000-7999");
    }

    #[tokio::test]
    async fn a_free_port_skips_taken_and_bound_ports() {
        let held = std::net::TcpListener::bind("0.0.0.0:0").unwrap();
        let busy = held.local_addr().unwrap().port();
        let range = PortRange::new(busy, busy.saturating_add(2));
        let taken = HashSet::from([busy.saturating_add(1)]);
        let port = free_port(&range, &taken, busy).await;
        assert_ne!(port, Some(busy));
        assert_ne!(port, Some(busy + 1));
        assert_eq!(free_port(&PortRange::new(busy, busy), &HashSet::new(), 0).await, None);
    }
}
