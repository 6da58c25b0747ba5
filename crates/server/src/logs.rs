//! Game session logs (`control-plane-api.md`, GetGameSessionLogUrl): the log files of a
//! server process, kept 14 days, downloadable as one zip archive through a time-limited URL
//! that openlift serves itself.
//!
//! The host agent uploads a process's files when the process ends ([`ingest`]), once, and
//! only the agent of the compute the store recorded for the process; they are stored as a
//! zip in the store, so every control-plane node can serve them and they
//! survive restarts. GetGameSessionLogUrl ([`url`]) finds the session's process and signs a
//! download URL on this server: `/openlift/logs/<process ID>?token=…`, where the token
//! carries its expiry and an HMAC over both (the `NextToken` signer with its own scope),
//! valid 15 minutes like S3's pre-signed URLs. [`download`] serves it without SigV4, as
//! a pre-signed URL is meant to be opened by a browser or `curl`.

use std::io::Write;
use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use openlift_core::records::ProcessLogs;
use openlift_model::{ApiError, ErrorCode, GetGameSessionLogUrlInput, GetGameSessionLogUrlOutput, Timestamp};

use openlift_store::StoreError;

use crate::app::App;
use crate::service::common::internal;

/// How long a download URL is accepted.
pub const URL_LIFETIME: Duration = Duration::from_secs(15 * 60);
/// The most log content one process may store; larger uploads are refused whole, as
/// GameLift does not save log files over its limit. The agent keeps the tail of each file
/// to stay under it.
pub const MAX_LOG_BYTES: usize = 3 * 1024 * 1024;
/// The path under which download URLs are served.
pub const DOWNLOAD_PATH: &str = "/openlift/logs/";

/// What a process ID keeps of its bytes in the URL path: everything but unreserved characters
/// is percent-encoded.
const PATH_SEGMENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// One uploaded log file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// Its name in the archive (a path as the process reported it, or the agent's name for
    /// captured output).
    pub name: String,
    /// Its content.
    pub content: Vec<u8>,
}

/// Stores the log files of process `process_id` as one zip archive, uploaded by the agent
/// of compute `compute_name` of fleet `fleet_id`. Only the agent of the compute that ran
/// the process, as the store recorded it when the process became ready, may upload its
/// logs, and only once; every refusal is logged with the uploader.
pub async fn ingest(
    app: &App,
    fleet_id: &str,
    compute_name: &str,
    process_id: &str,
    files: Vec<LogFile>,
) -> Result<(), ApiError> {
    let host = app.store.process_host(process_id).await.map_err(internal)?;
    if host.as_ref().is_none_or(|h| h.fleet_id != fleet_id || h.compute_name != compute_name) {
        let (ran_in, ran_on) = host.map(|h| (h.fleet_id, h.compute_name)).unzip();
        tracing::warn!(
            process_id,
            fleet_id,
            compute = compute_name,
            ?ran_in,
            ?ran_on,
            "log upload refused: the process did not run on the uploader's compute"
        );
        return Err(ApiError::invalid_request(format!(
            "Server process {process_id} did not run on compute {compute_name} of fleet {fleet_id}."
        )));
    }
    let total: usize = files.iter().map(|f| f.content.len()).sum();
    if total > MAX_LOG_BYTES {
        return Err(ApiError::new(
            ErrorCode::LimitExceededException,
            format!("The log files of process {process_id} hold {total} bytes; at most {MAX_LOG_BYTES} are kept."),
        ));
    }
    let archive = zip_archive(&files).map_err(|e| {
        tracing::error!(process_id, error = %e, "could not build the log archive");
        ApiError::internal()
    })?;
    let logs =
        ProcessLogs { process_id: process_id.to_owned(), fleet_id: fleet_id.to_owned(), stored_at: app.now(), archive };
    match app.store.put_process_logs(&logs).await {
        Ok(()) => Ok(()),
        Err(StoreError::AlreadyExists) => {
            tracing::warn!(process_id, fleet_id, compute = compute_name, "log upload refused: already uploaded");
            Err(ApiError::invalid_request(format!("The logs of server process {process_id} are already stored.")))
        }
        Err(e) => Err(internal(e)),
    }
}

/// A zip archive of `files`, deflated. Names are made relative (no leading `/`, no `..`)
/// so that unpacking the archive never writes outside the target directory; repeated
/// names get a numeric suffix.
fn zip_archive(files: &[LogFile]) -> zip::result::ZipResult<Vec<u8>> {
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
    let mut used = std::collections::HashSet::new();
    for file in files {
        let base = entry_name(&file.name);
        let mut name = base.clone();
        let mut n = 1;
        while !used.insert(name.clone()) {
            n += 1;
            name = format!("{base}.{n}");
        }
        writer.start_file(name, options)?;
        writer.write_all(&file.content)?;
    }
    Ok(writer.finish()?.into_inner())
}

fn entry_name(name: &str) -> String {
    let parts: Vec<&str> = name.split(['/', '\\']).filter(|p| !p.is_empty() && *p != "." && *p != "..").collect();
    if parts.is_empty() { "log".to_owned() } else { parts.join("/") }
}

fn scope(process_id: &str) -> String {
    format!("process-logs\0{process_id}")
}

/// GetGameSessionLogUrl: a download URL for the logs of the process that hosted the
/// session, if they were uploaded for the session's fleet; `NotFoundException` when the session is unknown or no logs are stored for it
/// (its process has not ended yet, ran without an agent, or the logs are past retention).
pub async fn url(app: &App, input: GetGameSessionLogUrlInput) -> Result<GetGameSessionLogUrlOutput, ApiError> {
    let id = &input.game_session_id;
    let record = app
        .store
        .get_game_session(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| ApiError::not_found(format!("Game session {id} not found.")))?
        .value;
    let no_logs = || ApiError::not_found(format!("No logs are stored for game session {id}."));
    let process_id = record.process_id.ok_or_else(no_logs)?;
    let stored = app.store.get_process_logs(&process_id).await.map_err(internal)?.ok_or_else(no_logs)?;
    if record.game_session.fleet_id.as_deref() != Some(stored.fleet_id.as_str()) {
        tracing::warn!(game_session_id = %id, process_id = %process_id, logs_fleet_id = %stored.fleet_id,
            "stored logs of another fleet not served");
        return Err(no_logs());
    }
    if stored.stored_at.plus(ProcessLogs::RETENTION) <= app.now() {
        return Err(no_logs());
    }
    let expires = app.now().plus(URL_LIFETIME).as_secs();
    let token = app.paging.tokens.issue(&scope(&process_id), expires);
    let base = http_base(&app.sdk_endpoint);
    let process = percent_encoding::utf8_percent_encode(&process_id, PATH_SEGMENT);
    Ok(GetGameSessionLogUrlOutput { pre_signed_url: Some(format!("{base}{DOWNLOAD_PATH}{process}?token={token}")) })
}

/// The HTTP origin of this server as game servers reach it: the SDK endpoint with its
/// WebSocket scheme mapped to HTTP's.
fn http_base(sdk_endpoint: &str) -> String {
    let trimmed = sdk_endpoint.trim_end_matches('/');
    if let Some(rest) = trimmed.strip_prefix("wss://") {
        format!("https://{rest}")
    } else if let Some(rest) = trimmed.strip_prefix("ws://") {
        format!("http://{rest}")
    } else {
        trimmed.to_owned()
    }
}

/// Whether a request is a log download.
pub fn is_download(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::GET && path.starts_with(DOWNLOAD_PATH)
}

/// Serves a download URL: the archive with `200`, or `403` for a missing, altered or
/// expired token and `404` for logs that are gone.
pub async fn download(app: &App, path: &str, query: Option<&str>) -> Response {
    let encoded = path.strip_prefix(DOWNLOAD_PATH).unwrap_or_default();
    let process_id = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy().into_owned();
    let token =
        query.into_iter().flat_map(|q| q.split('&')).find_map(|pair| pair.strip_prefix("token=")).unwrap_or_default();
    let now = app.now();
    match app.paging.tokens.check(&scope(&process_id), token) {
        Ok(expires) if Timestamp::from_millis(expires.saturating_mul(1000)) > now => {}
        Ok(_) => return text(StatusCode::FORBIDDEN, "This log URL has expired; request a new one."),
        Err(_) => return text(StatusCode::FORBIDDEN, "This log URL is not valid."),
    }
    match app.store.get_process_logs(&process_id).await {
        Ok(Some(logs)) if logs.stored_at.plus(ProcessLogs::RETENTION) > now => {
            let mut response = Response::new(Body::from(logs.archive));
            let headers = response.headers_mut();
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/zip"));
            let disposition = format!("attachment; filename=\"{}.zip\"", entry_name(&process_id).replace('/', "_"));
            if let Ok(value) = HeaderValue::from_str(&disposition) {
                headers.insert(header::CONTENT_DISPOSITION, value);
            }
            response
        }
        Ok(_) => text(StatusCode::NOT_FOUND, "These logs are no longer stored."),
        Err(e) => {
            tracing::error!(error = %e, "reading process logs failed");
            text(StatusCode::INTERNAL_SERVER_ERROR, "The logs could not be read; retry.")
        }
    }
}

fn text(status: StatusCode, message: &'static str) -> Response {
    let mut response = Response::new(Body::from(message));
    *response.status_mut() = status;
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn file(name: &str, content: &str) -> LogFile {
        LogFile { name: name.into(), content: content.as_bytes().to_vec() }
    }

    #[test]
    fn archives_hold_every_file_under_a_safe_unique_name() {
        let files = [
            file("/var/log/game/server.log", "started\n"),
            file("../../etc/passwd", "not outside"),
            file("stdout.log", "one"),
            file("stdout.log", "two"),
            file("/", "nameless"),
        ];
        let bytes = zip_archive(&files).unwrap();
        let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut found = Vec::new();
        for i in 0..archive.len() {
            let mut entry = archive.by_index(i).unwrap();
            let mut content = String::new();
            entry.read_to_string(&mut content).unwrap();
            found.push((entry.name().unwrap().into_owned(), content));
        }
        let expected = [
            ("var/log/game/server.log", "started\n"),
            ("etc/passwd", "not outside"),
            ("stdout.log", "one"),
            ("stdout.log.2", "two"),
            ("log", "nameless"),
        ];
        assert_eq!(found, expected.map(|(n, c)| (n.to_owned(), c.to_owned())));
    }

    #[test]
    fn download_urls_use_the_http_scheme_of_the_sdk_endpoint() {
        assert_eq!(http_base("ws://127.0.0.1:9080"), "http://127.0.0.1:9080");
        assert_eq!(http_base("wss://games.example.com:443/"), "https://games.example.com:443");
    }
}
