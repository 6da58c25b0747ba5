//! The log files of an ended process, gathered for upload (`UploadProcessLogs`, openlift's
//! extension of the agent protocol): its captured `stdout.log` and `stderr.log`, then the
//! `LogPaths` it reported in `ProcessReady` (a directory contributes the files directly in
//! it).
//!
//! At most [`UPLOAD_LIMIT`] bytes go up per process. When the files are larger together,
//! each keeps its tail (the end of a log says why the process ended): the budget is shared
//! fairly, small files whole and the rest split evenly among the large ones.

use std::collections::HashSet;
use std::io::SeekFrom;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncReadExt, AsyncSeekExt};

/// Most bytes uploaded for one process (3 MiB; 4 MiB once base64-encoded).
pub const UPLOAD_LIMIT: u64 = 3 * 1024 * 1024;

/// One file to upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// Its name, unique among the process's files.
    pub name: String,
    /// Its content, or its tail.
    pub content: Vec<u8>,
}

/// The files of process `process_id`, whose output went to `log_dir/<process_id>/`.
pub async fn collect(log_dir: &Path, process_id: &str, log_paths: &[String], limit: u64) -> Vec<LogFile> {
    let own = log_dir.join(process_id);
    let mut paths = vec![own.join("stdout.log"), own.join("stderr.log")];
    for reported in log_paths {
        let path = PathBuf::from(reported);
        match tokio::fs::metadata(&path).await {
            Ok(meta) if meta.is_dir() => paths.extend(files_in(&path).await),
            Ok(meta) if meta.is_file() => paths.push(path),
            _ => tracing::debug!(process_id, path = %reported, "reported log path is not there"),
        }
    }
    let mut sized = Vec::new();
    let mut seen = HashSet::new();
    for path in paths {
        if !seen.insert(path.clone()) {
            continue;
        }
        if let Ok(meta) = tokio::fs::metadata(&path).await {
            sized.push((path, meta.len()));
        }
    }
    let budgets = shares(&sized.iter().map(|(_, size)| *size).collect::<Vec<_>>(), limit);
    let mut names = HashSet::new();
    let mut files = Vec::new();
    for ((path, _), budget) in sized.into_iter().zip(budgets) {
        match tail(&path, budget).await {
            Ok(content) => files.push(LogFile { name: unique_name(&path, &mut names), content }),
            Err(error) => tracing::warn!(process_id, path = %path.display(), %error, "reading a log file failed"),
        }
    }
    files
}

/// The regular files directly in `dir`, by name.
async fn files_in(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    if let Ok(mut entries) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(entry)) = entries.next_entry().await {
            if entry.file_type().await.is_ok_and(|t| t.is_file()) {
                found.push(entry.path());
            }
        }
    }
    found.sort();
    found
}

/// How many bytes of each file fit in `limit`: files smaller than an even share are kept
/// whole, and what they leave is shared among the larger ones.
pub fn shares(sizes: &[u64], limit: u64) -> Vec<u64> {
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    order.sort_by_key(|&i| sizes[i]);
    let mut budgets = vec![0; sizes.len()];
    let mut left = limit;
    for (done, &i) in order.iter().enumerate() {
        let even = left / (sizes.len() - done) as u64;
        budgets[i] = sizes[i].min(even);
        left -= budgets[i];
    }
    budgets
}

async fn tail(path: &Path, bytes: u64) -> std::io::Result<Vec<u8>> {
    let mut file = tokio::fs::File::open(path).await?;
    let size = file.metadata().await?.len();
    file.seek(SeekFrom::Start(size.saturating_sub(bytes))).await?;
    let mut content = Vec::new();
    file.take(bytes).read_to_end(&mut content).await?;
    Ok(content)
}

/// The file's name, numbered if another file of the process has the same one.
fn unique_name(path: &Path, taken: &mut HashSet<String>) -> String {
    let base = path.file_name().map_or_else(|| "log".to_owned(), |n| n.to_string_lossy().into_owned());
    let mut name = base.clone();
    let mut n = 2;
    while !taken.insert(name.clone()) {
        name = format!("{n}-{base}");
        n += 1;
    }
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_files_stay_whole_and_large_ones_share_the_rest() {
        assert_eq!(shares(&[10, 20], 100), vec![10, 20]);
        assert_eq!(shares(&[10, 500, 300], 100), vec![10, 45, 45]);
        assert_eq!(shares(&[], 100), Vec::<u64>::new());
        assert_eq!(shares(&[1000, 1000], 3), vec![1, 2]);
    }

    #[tokio::test]
    async fn logs_are_gathered_with_their_tails_under_the_limit() {
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("p1");
        tokio::fs::create_dir_all(&own).await.unwrap();
        tokio::fs::write(own.join("stdout.log"), "0123456789").await.unwrap();
        tokio::fs::write(own.join("stderr.log"), "").await.unwrap();
        let reported = dir.path().join("game");
        tokio::fs::create_dir_all(&reported).await.unwrap();
        tokio::fs::write(reported.join("stdout.log"), "abcdefghij").await.unwrap();
        let paths = vec![reported.display().to_string(), "/nonexistent/x.log".to_owned()];

        let files = collect(dir.path(), "p1", &paths, 10).await;
        let got: Vec<(&str, &[u8])> = files.iter().map(|f| (f.name.as_str(), f.content.as_slice())).collect();
        assert_eq!(got, vec![("stdout.log", &b"56789"[..]), ("stderr.log", &b""[..]), ("2-stdout.log", &b"fghij"[..])]);
    }
}
