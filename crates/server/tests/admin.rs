//! The admin surface: the background workers' report, signed as API requests are.

mod common;

use std::time::{Duration, Instant};

use common::{Raw, Signer, TestServer};

const WORKERS: &str = "/openlift/admin/workers";

#[tokio::test]
async fn the_workers_report_needs_a_signature_and_names_every_worker_with_its_last_run() {
    let server = TestServer::start().await;
    let raw = Raw::new(&server);

    let unsigned = raw.send(raw.request("GET", WORKERS, &[], b"")).await;
    assert_eq!(unsigned.status, 400, "as the API answers it: {}", String::from_utf8_lossy(&unsigned.body));
    assert_eq!(unsigned.header("x-amzn-errortype"), "MissingAuthenticationTokenException");

    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let signed = raw.send_signed(raw.request("GET", WORKERS, &[], b""), &Signer::at(server.now())).await;
        assert_eq!(signed.status, 200, "{}", String::from_utf8_lossy(&signed.body));
        assert_eq!(signed.header("content-type"), "application/json");
        let report = signed.json();
        let workers = report["Workers"].as_array().expect("a list of workers").clone();
        let names: Vec<&str> = workers.iter().filter_map(|w| w["Name"].as_str()).collect();
        assert_eq!(names, ["agent-sweep", "sdk-sweep"]);
        if workers.iter().all(|w| w["LastRunMillis"].is_i64()) {
            assert!(workers.iter().all(|w| w["LastError"].is_null()), "{report}");
            return;
        }
        assert!(Instant::now() < deadline, "a worker never ran: {report}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
