//! Ready server processes: record, replace, list in ID order, forget; which compute ran
//! each, kept after it ended until the logs' retention passes.

use openlift_core::records::ServerProcessRecord;
use openlift_model::Timestamp;
use openlift_store::ProcessHost;

use crate::support::Backend;

fn process(id: &str, port: u16) -> ServerProcessRecord {
    ServerProcessRecord {
        process_id: id.into(),
        fleet_id: "fleet-1".into(),
        compute_name: "host-1".into(),
        location: "custom-lab".into(),
        certificate_path: None,
        sdk_language: "Rust".into(),
        sdk_version: "5.0.0".into(),
        sdk_tool_name: Some("Unreal".into()),
        sdk_tool_version: None,
        port: Some(port),
        log_paths: vec!["/logs/a.log".into()],
        connected_at: Timestamp::from_millis(1_000),
        activated_at: Timestamp::from_millis(1_500),
        token_digests: vec!["digest-1".into()],
    }
}

/// A second record of a process replaces the first; deleting an absent one is no error;
/// records survive reopening.
pub async fn server_processes(backend: &Backend) {
    let store = backend.open().await;
    assert!(store.list_server_processes().await.unwrap().is_empty());
    store.put_server_process(&process("p-2", 7000)).await.unwrap();
    store.put_server_process(&process("p-1", 7001)).await.unwrap();
    store.put_server_process(&process("p-2", 7002)).await.unwrap();
    assert_eq!(store.list_server_processes().await.unwrap(), vec![process("p-1", 7001), process("p-2", 7002)]);
    store.delete_server_process("p-1", Timestamp::from_millis(5_000)).await.unwrap();
    store.delete_server_process("p-unknown", Timestamp::from_millis(5_000)).await.unwrap();
    drop(store);
    let reopened = backend.open().await;
    assert_eq!(reopened.list_server_processes().await.unwrap(), vec![process("p-2", 7002)]);

    let host = ProcessHost { fleet_id: "fleet-1".into(), compute_name: "host-1".into() };
    assert_eq!(reopened.process_host("p-1").await.unwrap(), Some(host.clone()), "kept after the process ended");
    assert_eq!(reopened.process_host("p-unknown").await.unwrap(), None);
    let moved =
        ServerProcessRecord { fleet_id: "fleet-2".into(), compute_name: "host-9".into(), ..process("p-2", 7003) };
    reopened.put_server_process(&moved).await.unwrap();
    assert_eq!(reopened.process_host("p-2").await.unwrap(), Some(host.clone()), "the first host stays");
    reopened.purge_process_logs(Timestamp::from_millis(5_000)).await.unwrap();
    assert!(reopened.process_host("p-1").await.unwrap().is_some(), "the cut-off is exclusive");
    reopened.purge_process_logs(Timestamp::from_millis(5_001)).await.unwrap();
    assert_eq!(reopened.process_host("p-1").await.unwrap(), None, "gone with the logs' retention");
    assert_eq!(reopened.process_host("p-2").await.unwrap(), Some(host), "a running process keeps its host");
}
