//! AWS's published SigV4 test-suite vectors (credentials `AKIDEXAMPLE`, region
//! `us-east-1`, service `service`, signed at 2015-08-30T12:36:00Z), run through the verifier.

use std::collections::HashMap;
use std::time::SystemTime;

use http::Request;
use openlift_protocol::sigv4::{
    Credential, CredentialScope, SecretKey, canonical_request, hex_sha256, parse_amz_date, signature, signing_key,
    string_to_sign, verify,
};

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const DATE: &str = "20150830T123600Z";
const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
const UNRESERVED: &str = "-._~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const VANILLA: &str = "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31";

struct Vector {
    name: &'static str,
    method: &'static str,
    uri: String,
    headers: Vec<(&'static str, &'static str)>,
    body: &'static str,
    signed: &'static str,
    signature: &'static str,
}

fn vector(name: &'static str, method: &'static str, uri: &str, signature: &'static str) -> Vector {
    Vector { name, method, uri: uri.to_owned(), headers: vec![], body: "", signed: "host;x-amz-date", signature }
}

fn with(mut v: Vector, headers: &[(&'static str, &'static str)], signed: &'static str) -> Vector {
    v.headers = headers.to_vec();
    v.signed = signed;
    v
}

fn vectors() -> Vec<Vector> {
    let form = [("content-type", "application/x-www-form-urlencoded"), ("content-length", "13")];
    let form_charset = [("content-type", "application/x-www-form-urlencoded; charset=utf8"), ("content-length", "13")];
    let mut list = vec![
        vector("get-vanilla", "GET", "/", VANILLA),
        vector(
            "get-vanilla-query-order-key-case",
            "GET",
            "/?Param2=value2&Param1=value1",
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        ),
        vector(
            "get-vanilla-query-order-key",
            "GET",
            "/?Param1=value2&Param1=Value1",
            "eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
        ),
        vector(
            "get-vanilla-query-order-value",
            "GET",
            "/?Param1=value2&Param1=value1",
            "5772eed61e12b33fae39ee5e7012498b51d56abc0abb7c60486157bd471c4694",
        ),
        vector(
            "get-vanilla-query-unreserved",
            "GET",
            &format!("/?{UNRESERVED}={UNRESERVED}"),
            "9c3e54bfcdf0b19771a7f523ee5669cdf59bc7cc0884027167c21bb143a40197",
        ),
        vector(
            "get-vanilla-empty-query-key",
            "GET",
            "/?Param1=value1",
            "a67d582fa61cc504c4bae71f336f98b97f1ea3c7a6bfe1b6e45aec72011b9aeb",
        ),
        vector(
            "get-vanilla-utf8-query",
            "GET",
            "/?%E1%88%B4=bar",
            "2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        ),
        vector(
            "get-unreserved",
            "GET",
            &format!("/{UNRESERVED}"),
            "07ef7494c76fa4850883e2b006601f940f8a34d404d0cfa977f52a65bbf5f24f",
        ),
        vector("post-vanilla", "POST", "/", "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"),
        vector(
            "post-vanilla-query",
            "POST",
            "/?Param1=value1",
            "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        ),
        vector("get-relative", "GET", "/example/..", VANILLA),
        vector("get-relative-relative", "GET", "/example1/example2/../..", VANILLA),
        vector("get-slash", "GET", "//", VANILLA),
        vector("get-slash-dot-slash", "GET", "/./", VANILLA),
        vector(
            "get-slash-pointless-dot",
            "GET",
            "/./example",
            "ef75d96142cf21edca26f06005da7988e4f8dc83a165a80865db7089db637ec5",
        ),
        vector("get-slashes", "GET", "//example//", "9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84"),
    ];
    let my1 = "host;my-header1;x-amz-date";
    list.extend([
        with(
            vector(
                "get-header-key-duplicate",
                "GET",
                "/",
                "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea",
            ),
            &[("my-header1", "value2"), ("my-header1", "value2"), ("my-header1", "value1")],
            my1,
        ),
        with(
            vector(
                "get-header-value-order",
                "GET",
                "/",
                "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
            ),
            &[("my-header1", "value4"), ("my-header1", "value1"), ("my-header1", "value3"), ("my-header1", "value2")],
            my1,
        ),
        with(
            vector(
                "get-header-value-trim",
                "GET",
                "/",
                "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
            ),
            &[("my-header1", " value1"), ("my-header2", "\"a   b   c\"")],
            "host;my-header1;my-header2;x-amz-date",
        ),
        with(
            vector(
                "post-header-key-sort",
                "POST",
                "/",
                "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c",
            ),
            &[("my-header1", "value1")],
            my1,
        ),
        with(
            vector(
                "post-header-value-case",
                "POST",
                "/",
                "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d",
            ),
            &[("my-header1", "VALUE1")],
            my1,
        ),
        with(
            vector(
                "post-sts-header-before",
                "POST",
                "/",
                "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            ),
            &[("x-amz-security-token", TOKEN)],
            "host;x-amz-date;x-amz-security-token",
        ),
        with(
            vector(
                "post-sts-header-after",
                "POST",
                "/",
                "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b",
            ),
            &[("x-amz-security-token", TOKEN)],
            "host;x-amz-date",
        ),
    ]);
    let mut urlencoded = with(
        vector(
            "post-x-www-form-urlencoded",
            "POST",
            "/",
            "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        ),
        &form,
        "content-type;host;x-amz-date",
    );
    urlencoded.body = "Param1=value1";
    let mut parameters = with(
        vector(
            "post-x-www-form-urlencoded-parameters",
            "POST",
            "/",
            "1a72ec8f64bd914b0e42e42607c7fbce7fb2c7465f63e3092b3b0d39fa77a6fe",
        ),
        &form_charset,
        "content-type;host;x-amz-date",
    );
    parameters.body = "Param1=value1";
    list.extend([urlencoded, parameters]);
    list
}

fn now() -> SystemTime {
    parse_amz_date(DATE).unwrap()
}

#[test]
fn every_suite_vector_verifies() {
    let mut store = HashMap::new();
    store.insert("AKIDEXAMPLE".to_owned(), Credential::long_term(SecretKey::new(SECRET)));
    let mut temporary = HashMap::new();
    temporary
        .insert("AKIDEXAMPLE".to_owned(), Credential::temporary(SecretKey::new(SECRET), SecretKey::new(TOKEN), None));
    for v in vectors() {
        let mut builder = Request::builder().method(v.method).uri(v.uri.as_str());
        builder = builder.header("host", "example.amazonaws.com").header("x-amz-date", DATE);
        for (name, value) in &v.headers {
            builder = builder.header(*name, *value);
        }
        let authorization = format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders={}, Signature={}",
            v.signed, v.signature
        );
        let (parts, ()) = builder.header("authorization", authorization).body(()).unwrap().into_parts();
        let keys = if v.name.starts_with("post-sts") { &temporary } else { &store };
        let result = verify(&parts, v.body.as_bytes(), keys, "us-east-1", "service", now());
        assert_eq!(result.as_deref(), Ok("AKIDEXAMPLE"), "{}", v.name);
    }
}

#[test]
fn building_blocks_reproduce_the_suite_intermediates() {
    let (parts, ()) = Request::builder()
        .uri("/")
        .header("host", "example.amazonaws.com")
        .header("my-header1", " value1")
        .header("my-header2", "\"a   b   c\"")
        .header("x-amz-date", DATE)
        .body(())
        .unwrap()
        .into_parts();
    let signed = "host;my-header1;my-header2;x-amz-date";
    let canonical = canonical_request(&parts.method, &parts.uri, &parts.headers, signed, &hex_sha256(b"")).unwrap();
    let expected = "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    assert_eq!(std::str::from_utf8(&canonical).unwrap(), expected);

    let scope = CredentialScope { date: "20150830".into(), region: "us-east-1".into(), service: "service".into() };
    let to_sign = string_to_sign(DATE, &scope, &canonical);
    let expected_sts = "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\na726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7";
    assert_eq!(to_sign, expected_sts);
    let sig = signature(&signing_key(&SecretKey::new(SECRET), &scope), &to_sign);
    assert_eq!(hex::encode(sig), "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736");
}
