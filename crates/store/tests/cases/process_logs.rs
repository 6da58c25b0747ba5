//! Process log archives: store once, read back byte for byte, and purge by age.

use openlift_core::records::ProcessLogs;
use openlift_model::Timestamp;
use openlift_store::StoreError;

use crate::support::Backend;

fn logs(process_id: &str, stored_at: i64, archive: &[u8]) -> ProcessLogs {
    ProcessLogs {
        process_id: process_id.into(),
        fleet_id: "fleet-1".into(),
        stored_at: Timestamp::from_millis(stored_at),
        archive: archive.to_vec(),
    }
}

/// Archives round-trip exactly (binary, with NULs), a second upload is refused and changes
/// nothing, and the purge removes exactly those stored before the cut-off.
pub async fn process_logs(backend: &Backend) {
    let store = backend.open().await;
    assert!(store.get_process_logs("process-1").await.unwrap().is_none());

    let binary: Vec<u8> = (0..=255u8).chain([0, 0, 255]).collect();
    store.put_process_logs(&logs("process-1", 1_000, &binary)).await.unwrap();
    store.put_process_logs(&logs("process-2", 2_000, b"second")).await.unwrap();
    assert_eq!(store.get_process_logs("process-1").await.unwrap(), Some(logs("process-1", 1_000, &binary)));

    let again = store.put_process_logs(&logs("process-1", 3_000, b"replaced")).await;
    assert!(matches!(again, Err(StoreError::AlreadyExists)), "{again:?}");
    assert_eq!(store.get_process_logs("process-1").await.unwrap(), Some(logs("process-1", 1_000, &binary)));

    store.put_process_logs(&logs("process-3", 3_000, b"third")).await.unwrap();
    assert_eq!(store.purge_process_logs(Timestamp::from_millis(1_000)).await.unwrap(), 0, "the cut-off is exclusive");
    assert_eq!(store.purge_process_logs(Timestamp::from_millis(2_001)).await.unwrap(), 2);
    assert!(store.get_process_logs("process-2").await.unwrap().is_none());
    assert!(store.get_process_logs("process-3").await.unwrap().is_some());
    drop(store);
    let reopened = backend.open().await;
    assert_eq!(reopened.get_process_logs("process-3").await.unwrap(), Some(logs("process-3", 3_000, b"third")));
}
