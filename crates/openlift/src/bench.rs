//! `openlift bench`: measures CreateGameSession placement end to end.
//!
//! It starts a control plane in this process (embedded SQLite in a temporary directory,
//! or `--database-url`), creates an Anywhere fleet with a custom location and one compute
//! through the API, and connects game server processes with `openlift-server-sdk` over
//! real WebSockets; each calls `ProcessReady` and answers the `CreateGameSession` push with
//! `ActivateGameSession`. Then it sends CreateGameSession requests (awsJson 1.1, SigV4
//! signed, fully verified by the server) over keep-alive HTTP/1.1 connections, as fast as
//! `--concurrency` allows or at `--rate` per second.
//!
//! A process hosts one game session in its life, and each connection holds two file
//! descriptors in this one process, so sessions are placed in rounds of `--processes`:
//! between rounds (untimed) the processes end and fresh ones become ready.
//!
//! Figures: sessions placed per second (summed over the rounds' placement time, each from
//! its first request to its last response or activation, whichever is later), latency
//! from sending CreateGameSession to its ACTIVATING response, and time from sending it to
//! the process's `ActivateGameSession` being acknowledged (the session is ACTIVE in the store).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use anyhow::{Context, bail};
use bytes::Bytes;
use clap::Args;
use http::{HeaderValue, Method, Request};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{Connection, SendRequest};
use hyper_util::rt::TokioIo;
use openlift_protocol::sigv4::{self, CredentialScope, SecretKey};
use openlift_server::config::Config;
use openlift_server::credentials::CredentialEntry;
use openlift_server_sdk::{
    ClientOptions, Credentials, GameLiftServer, GameSession, ProcessParameters, ServerHandler, ServerParameters,
    TlsTrust,
};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

const REGION: &str = "us-east-1";
const ACCESS_KEY_ID: &str = "AKIDOPENLIFTBENCH";
const SECRET: &str = "openlift-bench-secret";
const LOCATION: &str = "custom-bench";
const COMPUTE: &str = "bench-host";
/// Processes connecting at once while a round is set up.
const CONNECTING: usize = 256;
/// How long a round waits for its last activations.
const ACTIVATION_WAIT: Duration = Duration::from_secs(60);

/// Flags of `openlift bench`.
#[derive(Args)]
pub struct BenchArgs {
    /// Simulated game server processes ready at once (one round of placements).
    #[arg(long, default_value_t = 4000)]
    processes: usize,
    /// CreateGameSession requests in all.
    #[arg(long, default_value_t = 20_000)]
    sessions: usize,
    /// HTTP connections sending requests, each one request at a time.
    #[arg(long, default_value_t = 256)]
    concurrency: usize,
    /// Requests per second to send (open loop); unset: as fast as the connections go.
    #[arg(long)]
    rate: Option<f64>,
    /// Store to use instead of SQLite in a temporary directory (`postgres://...`).
    #[arg(long)]
    database_url: Option<String>,
    /// The fleet's MaxConcurrentGameSessionActivations; unset: no limit.
    #[arg(long)]
    max_activations: Option<u32>,
}

/// Runs the benchmark and prints its figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<()> {
    if args.processes == 0 || args.sessions == 0 || args.concurrency == 0 {
        bail!("--processes, --sessions and --concurrency must be at least 1");
    }
    let data_dir = tempfile::tempdir().context("temporary data dir")?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let config = Config {
        region: REGION.into(),
        database_url: args.database_url.clone(),
        credentials: vec![CredentialEntry { access_key_id: ACCESS_KEY_ID.into(), secret_access_key: SECRET.into() }],
        // Every process and client connects from this host: one peer, thousands of connections.
        max_connections: usize::MAX,
        max_connections_per_peer: usize::MAX,
        ..Config::new(addr, data_dir.path().to_owned())
    };
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(openlift_server::serve(config, listener, shutdown.clone()));
    let outcome = bench(&args, addr).await;
    shutdown.cancel();
    server.await.context("server task")??;
    outcome
}

async fn bench(args: &BenchArgs, addr: SocketAddr) -> anyhow::Result<()> {
    let signer = Arc::new(Signer::new());
    let mut admin = Client::connect(addr, signer.clone()).await?;
    let fleet = setup(&mut admin, args.max_activations).await?;
    let probe = Arc::new(Probe::new(args.sessions));
    let mut placed = Results::default();
    let mut placing = Duration::ZERO;
    let mut setting_up = Duration::ZERO;
    let mut cpu = Some(Duration::ZERO);
    let mut next = 0;
    while next < args.sessions {
        let round = args.processes.min(args.sessions - next);
        let started = Instant::now();
        let games = ready_processes(addr, &signer, &fleet, round, &probe).await?;
        // Fresh connections each round: the server closes connections left idle during set-up.
        let mut clients = Vec::with_capacity(args.concurrency);
        for _ in 0..args.concurrency {
            clients.push(Client::connect(addr, signer.clone()).await?);
        }
        setting_up += started.elapsed();
        let cpu_before = cpu_time();
        let (results, round_started) = place_round(clients, &fleet, next..next + round, args.rate, &probe).await?;
        let answered = round_started.elapsed();
        placed.merge(results);
        probe.wait(next..next + round, ACTIVATION_WAIT).await;
        // A round lasts until its last response or its last activation, whichever is later.
        let activated = probe.last_activation(next..next + round).map(|at| at.saturating_duration_since(round_started));
        placing += activated.map_or(answered, |activated| answered.max(activated));
        cpu = cpu.zip(cpu_before).zip(cpu_time()).map(|((sum, before), after)| sum + after.saturating_sub(before));
        let started = Instant::now();
        end_processes(games).await;
        setting_up += started.elapsed();
        next += round;
    }
    report(args, &placed, placing, setting_up, cpu, &probe);
    Ok(())
}

/// CPU time used so far by this process, all threads, user and system (`/proc/self/stat`,
/// in clock ticks of 10 ms); `None` where that file is missing.
fn cpu_time() -> Option<Duration> {
    const TICKS_PER_SECOND: u64 = 100;
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // After the command name (which may hold spaces) come fields 3 to 52; utime and stime
    // are the 14th and 15th.
    let mut fields = stat.rsplit_once(')')?.1.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some(Duration::from_millis((user + system) * 1000 / TICKS_PER_SECOND))
}

/// The fleet's ID and the compute's auth token.
struct Fleet {
    fleet_id: String,
    sdk_url: String,
    token: String,
}

async fn setup(admin: &mut Client, max_activations: Option<u32>) -> anyhow::Result<Fleet> {
    admin.ok("CreateLocation", json!({ "LocationName": LOCATION })).await?;
    let mut fleet = json!({
        "Name": "bench",
        "ComputeType": "ANYWHERE",
        "Locations": [{ "Location": LOCATION }],
    });
    if let Some(max) = max_activations {
        fleet["RuntimeConfiguration"] = json!({
            "ServerProcesses": [{ "LaunchPath": "/local/game/bench", "ConcurrentExecutions": 1 }],
            "MaxConcurrentGameSessionActivations": max,
        });
    }
    let created = admin.ok("CreateFleet", fleet).await?;
    let fleet_id = text(&created["FleetAttributes"]["FleetId"])?;
    let registered = admin
        .ok(
            "RegisterCompute",
            json!({ "FleetId": fleet_id, "ComputeName": COMPUTE, "Location": LOCATION, "IpAddress": "10.0.0.1" }),
        )
        .await?;
    let sdk_url = text(&registered["Compute"]["GameLiftServiceSdkEndpoint"])?;
    let token = admin.ok("GetComputeAuthToken", json!({ "FleetId": fleet_id, "ComputeName": COMPUTE })).await?;
    Ok(Fleet { fleet_id, sdk_url, token: text(&token["AuthToken"])? })
}

fn text(value: &Value) -> anyhow::Result<String> {
    value.as_str().map(str::to_owned).with_context(|| format!("expected a string, got {value}"))
}

/// A simulated game server: activates its game session as soon as it is pushed.
struct Game {
    sdk: GameLiftServer,
    probe: Arc<Probe>,
}

impl ServerHandler for Game {
    async fn on_start_game_session(&self, session: GameSession) {
        let index = session.name.strip_prefix("bench-").and_then(|i| i.parse::<usize>().ok());
        let activated = self.sdk.activate_game_session().await;
        if let (Some(index), Ok(())) = (index, activated) {
            self.probe.activated(index);
        }
    }

    async fn on_process_terminate(&self) {}
}

/// Connects `count` new processes and makes them ready.
async fn ready_processes(
    addr: SocketAddr,
    signer: &Arc<Signer>,
    fleet: &Fleet,
    count: usize,
    probe: &Arc<Probe>,
) -> anyhow::Result<Vec<GameLiftServer>> {
    let mut games = Vec::with_capacity(count);
    let mut connecting = JoinSet::new();
    for _ in 0..count {
        if connecting.len() >= CONNECTING
            && let Some(joined) = connecting.join_next().await
        {
            games.push(joined??);
        }
        let params = ServerParameters {
            web_socket_url: fleet.sdk_url.clone(),
            process_id: uuid::Uuid::new_v4().to_string(),
            host_id: COMPUTE.into(),
            fleet_id: fleet.fleet_id.clone(),
            credentials: Credentials::AuthToken(fleet.token.clone()),
        };
        let probe = probe.clone();
        connecting.spawn(async move {
            // ws:// needs no trust store; the default would read the system's for every process.
            let options = ClientOptions::default().with_tls(TlsTrust::CustomCa(Vec::new()));
            let sdk = GameLiftServer::init(params, options).await?;
            let game = Game { sdk: sdk.clone(), probe };
            sdk.process_ready(ProcessParameters { port: 7777, log_paths: Vec::new() }, game).await?;
            Ok::<_, anyhow::Error>(sdk)
        });
    }
    while let Some(joined) = connecting.join_next().await {
        games.push(joined??);
    }
    // A new connection: the server closes one left idle for long.
    let mut admin = Client::connect(addr, signer.clone()).await?;
    let usage = admin.ok("DescribeFleetUtilization", json!({ "FleetIds": [fleet.fleet_id] })).await?;
    let ready = usage["FleetUtilization"][0]["ActiveServerProcessCount"].as_u64().unwrap_or(0);
    if ready < count as u64 {
        bail!("only {ready} of {count} processes are ready");
    }
    Ok(games)
}

/// Ends a round's processes (`ProcessEnding`) and closes their connections.
async fn end_processes(games: Vec<GameLiftServer>) {
    let mut ending = JoinSet::new();
    for sdk in games {
        if ending.len() >= CONNECTING {
            ending.join_next().await;
        }
        ending.spawn(async move {
            let _ = sdk.process_ending().await;
            sdk.destroy().await;
        });
    }
    while ending.join_next().await.is_some() {}
}

/// Sends CreateGameSession for session numbers `range`, one connection per task; returns
/// when the last answer came, with the results and when the first request was sent.
async fn place_round(
    clients: Vec<Client>,
    fleet: &Fleet,
    range: std::ops::Range<usize>,
    rate: Option<f64>,
    probe: &Arc<Probe>,
) -> anyhow::Result<(Results, Instant)> {
    let next = Arc::new(AtomicUsize::new(range.start));
    let started = Instant::now();
    let mut workers = JoinSet::new();
    for mut client in clients {
        let (next, range, probe, fleet_id) = (next.clone(), range.clone(), probe.clone(), fleet.fleet_id.clone());
        workers.spawn(async move {
            let mut results = Results::default();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= range.end {
                    break;
                }
                if let Some(rate) = rate {
                    // Each round keeps the schedule from its own start: set-up is not paced.
                    let due = started + Duration::from_secs_f64((i - range.start) as f64 / rate);
                    tokio::time::sleep_until(due.into()).await;
                    results.lag.push(due.elapsed());
                }
                let body = json!({
                    "FleetId": fleet_id,
                    "Location": LOCATION,
                    "MaximumPlayerSessionCount": 10,
                    "Name": format!("bench-{i}"),
                });
                let sent = Instant::now();
                probe.sent(i, sent);
                match client.call("CreateGameSession", &body).await {
                    Ok((200, reply)) if reply["GameSession"]["Status"] == "ACTIVATING" => {
                        results.latency.push(sent.elapsed());
                        probe.placed(i);
                    }
                    Ok((status, reply)) => results.error(format!("{status} {}", reply["__type"]), 1),
                    Err(error) => results.error(format!("transport: {error}"), 1),
                }
            }
            results
        });
    }
    let mut results = Results::default();
    while let Some(joined) = workers.join_next().await {
        results.merge(joined?);
    }
    Ok((results, started))
}

/// Latencies and errors of a set of requests.
#[derive(Default)]
struct Results {
    latency: Vec<Duration>,
    lag: Vec<Duration>,
    errors: Vec<(String, usize)>,
}

impl Results {
    fn error(&mut self, kind: String, count: usize) {
        match self.errors.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += count,
            None => self.errors.push((kind, count)),
        }
    }

    fn merge(&mut self, other: Results) {
        self.latency.extend(other.latency);
        self.lag.extend(other.lag);
        for (kind, count) in other.errors {
            self.error(kind, count);
        }
    }
}

/// When each session's request was sent and its activation acknowledged, in
/// nanoseconds since the probe was made (0: not yet), and which were placed.
struct Probe {
    epoch: Instant,
    sent: Vec<AtomicU64>,
    activated: Vec<AtomicU64>,
    placed: Vec<AtomicBool>,
    count: AtomicUsize,
}

impl Probe {
    fn new(sessions: usize) -> Self {
        let zeros = || (0..sessions).map(|_| AtomicU64::new(0)).collect();
        let placed = (0..sessions).map(|_| AtomicBool::new(false)).collect();
        Probe { epoch: Instant::now(), sent: zeros(), activated: zeros(), placed, count: AtomicUsize::new(0) }
    }

    fn placed(&self, index: usize) {
        self.placed[index].store(true, Ordering::Relaxed);
    }

    fn nanos(&self, at: Instant) -> u64 {
        u64::try_from(at.duration_since(self.epoch).as_nanos()).unwrap_or(u64::MAX).max(1)
    }

    fn sent(&self, index: usize, at: Instant) {
        self.sent[index].store(self.nanos(at), Ordering::Relaxed);
    }

    fn activated(&self, index: usize) {
        if let Some(slot) = self.activated.get(index) {
            slot.store(self.nanos(Instant::now()), Ordering::Relaxed);
            self.count.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// Waits until every session of `range` that was placed is acknowledged active, or `limit`.
    async fn wait(&self, range: std::ops::Range<usize>, limit: Duration) {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            let pending = range
                .clone()
                .filter(|&i| self.placed[i].load(Ordering::Relaxed) && self.activated[i].load(Ordering::Relaxed) == 0)
                .count();
            if pending == 0 {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// When the last session of `range` was acknowledged active.
    fn last_activation(&self, range: std::ops::Range<usize>) -> Option<Instant> {
        let last = self.activated[range].iter().map(|at| at.load(Ordering::Relaxed)).max().filter(|&at| at > 0)?;
        Some(self.epoch + Duration::from_nanos(last))
    }

    fn times_to_active(&self) -> Vec<Duration> {
        self.sent
            .iter()
            .zip(&self.activated)
            .filter_map(|(sent, activated)| {
                let (sent, activated) = (sent.load(Ordering::Relaxed), activated.load(Ordering::Relaxed));
                (sent > 0 && activated >= sent).then(|| Duration::from_nanos(activated - sent))
            })
            .collect()
    }
}

/// Signs requests with the bench credential (SigV4, header signing), deriving the key once a day.
struct Signer {
    secret: SecretKey,
    key: Mutex<Option<(String, [u8; 32])>>,
}

impl Signer {
    fn new() -> Self {
        Signer { secret: SecretKey::new(SECRET), key: Mutex::new(None) }
    }

    fn sign(&self, request: &mut Request<Full<Bytes>>, body: &[u8]) -> anyhow::Result<()> {
        let amz_date = sigv4::format_amz_date(SystemTime::now());
        let scope =
            CredentialScope { date: amz_date[..8].to_owned(), region: REGION.into(), service: "gamelift".into() };
        let key = {
            let mut cached = self.key.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            match cached.as_ref() {
                Some((date, key)) if *date == scope.date => *key,
                _ => {
                    let key = sigv4::signing_key(&self.secret, &scope);
                    *cached = Some((scope.date.clone(), key));
                    key
                }
            }
        };
        request.headers_mut().insert("x-amz-date", HeaderValue::from_str(&amz_date)?);
        let signed = "content-type;host;x-amz-date;x-amz-target";
        let canonical = sigv4::canonical_request(
            request.method(),
            request.uri(),
            request.headers(),
            signed,
            &sigv4::hex_sha256(body),
        )
        .map_err(|e| anyhow::anyhow!("{}", e.message))?;
        let signature = sigv4::signature(&key, &sigv4::string_to_sign(&amz_date, &scope, &canonical));
        let authorization = format!(
            "{} Credential={ACCESS_KEY_ID}/{scope}, SignedHeaders={signed}, Signature={}",
            sigv4::ALGORITHM,
            hex::encode(signature)
        );
        request.headers_mut().insert(http::header::AUTHORIZATION, HeaderValue::from_str(&authorization)?);
        Ok(())
    }
}

/// One keep-alive HTTP/1.1 connection to the control plane, sending signed awsJson 1.1 requests.
///
/// The connection is driven by whichever task makes the call, not by a task of its own, so
/// a request and its response cost no hand-over between tasks.
struct Client {
    sender: SendRequest<Full<Bytes>>,
    connection: Connection<TokioIo<TcpStream>, Full<Bytes>>,
    host: String,
    signer: Arc<Signer>,
}

impl Client {
    async fn connect(addr: SocketAddr, signer: Arc<Signer>) -> anyhow::Result<Self> {
        let stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        Ok(Client { sender, connection, host: addr.to_string(), signer })
    }

    /// Sends `operation` with `input`; the status and the JSON answer.
    async fn call(&mut self, operation: &str, input: &Value) -> anyhow::Result<(u16, Value)> {
        let body = Bytes::from(serde_json::to_vec(input)?);
        let mut request = Request::builder()
            .method(Method::POST)
            .uri("/")
            .header(http::header::HOST, &self.host)
            .header(http::header::CONTENT_TYPE, "application/x-amz-json-1.1")
            .header("x-amz-target", format!("GameLift.{operation}"))
            .body(Full::new(body.clone()))?;
        self.signer.sign(&mut request, &body)?;
        let exchange = async {
            self.sender.ready().await?;
            let response = self.sender.send_request(request).await?;
            let status = response.status().as_u16();
            let bytes = response.into_body().collect().await?.to_bytes();
            let reply = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes)? };
            Ok((status, reply))
        };
        tokio::select! {
            answered = exchange => answered,
            closed = &mut self.connection => bail!("the connection closed: {closed:?}"),
        }
    }

    /// Sends `operation` and fails unless it succeeds.
    async fn ok(&mut self, operation: &str, input: Value) -> anyhow::Result<Value> {
        match self.call(operation, &input).await? {
            (200, reply) => Ok(reply),
            (status, reply) => bail!("{operation} failed with {status}: {reply}"),
        }
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn distribution(name: &str, mut values: Vec<Duration>) {
    values.sort_unstable();
    println!(
        "{name:<34} {:>10} {:>10} {:>10} {:>10} {:>10}",
        ms(percentile(&values, 50.0)),
        ms(percentile(&values, 90.0)),
        ms(percentile(&values, 99.0)),
        ms(percentile(&values, 99.9)),
        ms(values.last().copied().unwrap_or_default()),
    );
}

fn report(
    args: &BenchArgs,
    placed: &Results,
    placing: Duration,
    setting_up: Duration,
    cpu: Option<Duration>,
    probe: &Probe,
) {
    let ok = placed.latency.len();
    let active = probe.count.load(Ordering::Relaxed);
    let rate = args.rate.map_or("unlimited (closed loop)".to_owned(), |r| format!("{r:.0} requests/s (open loop)"));
    println!();
    println!("openlift bench: CreateGameSession over HTTP/1.1 + awsJson 1.1 + SigV4, SDK processes over WebSocket");
    println!(
        "  processes per round {}, sessions {}, connections {}, rate {rate}",
        args.processes, args.sessions, args.concurrency
    );
    println!("  store {}", args.database_url.as_deref().unwrap_or("embedded SQLite (temporary directory)"));
    println!();
    println!("{:<34} {ok} ACTIVATING, {active} acknowledged ACTIVE", "sessions placed");
    for (kind, n) in &placed.errors {
        println!("{:<34} {n} × {kind}", "errors");
    }
    println!(
        "{:<34} {:.3} s (to the last response or activation; set-up between rounds {:.1} s, untimed)",
        "placement time",
        placing.as_secs_f64(),
        setting_up.as_secs_f64()
    );
    println!("{:<34} {:.0} sessions/s", "throughput", ok as f64 / placing.as_secs_f64().max(f64::EPSILON));
    if let Some(cpu) = cpu.filter(|_| ok > 0) {
        println!(
            "{:<34} {:.0} µs per session ({:.2} s in all: server, client and processes, until ACTIVE)",
            "CPU time",
            cpu.as_secs_f64() * 1e6 / ok as f64,
            cpu.as_secs_f64()
        );
    }
    println!();
    println!("{:<34} {:>10} {:>10} {:>10} {:>10} {:>10}", "", "p50", "p90", "p99", "p99.9", "max");
    distribution("request → ACTIVATING response", placed.latency.clone());
    distribution("request → ACTIVE acknowledged", probe.times_to_active());
    if args.rate.is_some() {
        distribution("send lag behind schedule", placed.lag.clone());
    }
}
