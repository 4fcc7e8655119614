//! The RFC 7523 jwt-bearer grant (Google service-account keys) against a local token server:
//! the assertion is verified with the key's public half, and the minted token is used.
//!
//! `tests/fixtures/jwt-test-key*.pem` is an RSA key generated for these tests only (PKCS#8 and
//! the same key as PKCS#1); it authorises nothing.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use airbyte_agent_runtime::*;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use common::*;
use ring::signature::{KeyPair as _, RSA_PKCS1_2048_8192_SHA256, RsaKeyPair, UnparsedPublicKey};
use rustls::pki_types::PrivatePkcs8KeyDer;
use rustls::pki_types::pem::PemObject as _;
use serde_json::{Value, json};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, Request, Respond, ResponseTemplate};

const PKCS8: &str = include_str!("fixtures/jwt-test-key.pem");
const PKCS1: &str = include_str!("fixtures/jwt-test-key-pkcs1.pem");
const SCOPE: &str = "https://www.googleapis.com/auth/analytics.readonly";
const GOOGLE_TOKEN_URI: &str = "https://oauth2.googleapis.com/token";

static GET_ME: OperationDescriptor = op("me", "get", ActionKind::Get, Method::Get, "/me");
static ENTITIES: &[EntityDescriptor] = &[EntityDescriptor {
    name: "me",
    description: "",
    operations: std::slice::from_ref(&GET_ME),
}];

static SCHEMES: &[AuthSchemeDescriptor] = &[AuthSchemeDescriptor {
    fields: &[field("credentials_json", true)],
    ..scheme(
        "serviceAccount",
        AuthKind::OAuth2(OAuth2Descriptor {
            token_url: Some(GOOGLE_TOKEN_URI),
            grant: TokenGrant::JwtBearer,
            scopes: &[SCOPE],
            ..oauth2(GOOGLE_TOKEN_URI)
        }),
    )
}];
static CONN: ConnectorDescriptor = connector(SCHEMES, ENTITIES);

fn key_file(pem: &str) -> String {
    json!({
        "type": "service_account",
        "client_email": "reporter@example.iam.gserviceaccount.com",
        "private_key_id": "key-1",
        "private_key": pem,
        "token_uri": GOOGLE_TOKEN_URI,
    })
    .to_string()
}

fn client(server: &MockServer, credentials_json: String) -> Client {
    Client::builder(
        &CONN,
        Credentials::new("serviceAccount").set("credentials_json", credentials_json),
    )
    .base_url(server.uri())
    .refresh_url(format!("{}/token", server.uri()))
    .build()
    .unwrap()
}

/// Mints `t1`, `t2`, ... and keeps every form body it received.
#[derive(Clone, Default)]
struct TokenServer {
    bodies: Arc<Mutex<Vec<String>>>,
    minted: Arc<AtomicUsize>,
}
impl Respond for TokenServer {
    fn respond(&self, req: &Request) -> ResponseTemplate {
        self.bodies
            .lock()
            .unwrap()
            .push(String::from_utf8_lossy(&req.body).into_owned());
        let n = self.minted.fetch_add(1, Ordering::SeqCst) + 1;
        ResponseTemplate::new(200).set_body_json(
            json!({"access_token": format!("t{n}"), "token_type": "Bearer", "expires_in": 3600}),
        )
    }
}

/// The pairs of a form-encoded body.
fn form(body: &str) -> Vec<(String, String)> {
    reqwest::Url::parse(&format!("http://form.invalid/?{body}"))
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// Checks the assertion's signature against the fixture key's public half; returns the claims.
fn verified_claims(assertion: &str) -> (Value, Value) {
    let der = PrivatePkcs8KeyDer::from_pem_slice(PKCS8.as_bytes()).unwrap();
    let key = RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    let public = UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, key.public_key().as_ref());
    let (signed, signature) = assertion.rsplit_once('.').unwrap();
    public
        .verify(
            signed.as_bytes(),
            &URL_SAFE_NO_PAD.decode(signature).unwrap(),
        )
        .expect("the assertion is signed by the service-account key");
    let (header, claims) = signed.split_once('.').unwrap();
    let decode = |part: &str| -> Value {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    };
    (decode(header), decode(claims))
}

#[tokio::test]
async fn assertion_is_signed_and_exchanged_before_the_first_call_and_after_a_401() {
    for pem in [PKCS8, PKCS1] {
        let server = MockServer::start().await;
        let tokens = TokenServer::default();
        Mock::given(method("POST"))
            .and(path("/token"))
            .respond_with(tokens.clone())
            .mount(&server)
            .await;
        // The API accepts only the second token: the first call refreshes once more on its 401.
        Mock::given(method("GET"))
            .and(path("/me"))
            .respond_with(NeedsToken("t2"))
            .mount(&server)
            .await;
        let c = client(&server, key_file(pem));
        let r = c.execute("me", "get", json!({})).await.unwrap();
        assert_eq!(r.data, json!({"id": "u1"}));

        let bodies = tokens.bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), 2, "one proactive and one reactive exchange");
        for body in &bodies {
            let fields = form(body);
            let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
            assert_eq!(names, ["grant_type", "assertion"]);
            assert_eq!(fields[0].1, "urn:ietf:params:oauth:grant-type:jwt-bearer");
            let (header, claims) = verified_claims(&fields[1].1);
            assert_eq!(
                header,
                json!({"alg": "RS256", "typ": "JWT", "kid": "key-1"})
            );
            assert_eq!(claims["iss"], "reporter@example.iam.gserviceaccount.com");
            assert_eq!(claims["scope"], SCOPE);
            assert_eq!(claims["aud"], GOOGLE_TOKEN_URI);
            let iat = claims["iat"].as_u64().unwrap();
            assert_eq!(claims["exp"].as_u64().unwrap() - iat, 3600);
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs();
            assert!(iat <= now && now - iat < 60, "iat {iat} is now ({now})");
        }

        // The token is kept: the next call needs no exchange.
        c.execute("me", "get", json!({})).await.unwrap();
        assert_eq!(tokens.minted.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn an_unusable_key_is_a_typed_auth_error_that_does_not_quote_the_key() {
    let server = MockServer::start().await;
    let secret_body = "c2VjcmV0LWtleS1ieXRlcw";
    let cases = [
        (
            key_file(&format!(
                "-----BEGIN PRIVATE KEY-----\n{secret_body}==\n-----END PRIVATE KEY-----\n"
            )),
            "'private_key' is not a loadable PEM private key",
        ),
        (
            json!({"private_key": PKCS8}).to_string(),
            "'client_email' is missing",
        ),
        (format!("{{{secret_body}"), "it is not valid JSON"),
    ];
    for (credentials_json, why) in cases {
        let c = client(&server, credentials_json);
        let err = c.execute("me", "get", json!({})).await.unwrap_err();
        assert!(matches!(err, Error::Auth(_)), "{err:?}");
        let shown = format!("{err} {err:?}");
        assert!(
            shown.contains(&format!(
                "Failed to obtain access_token via token refresh: Invalid 'credentials_json': {why}"
            )),
            "{shown}"
        );
        assert!(!shown.contains(secret_body), "{shown}");
        assert!(!shown.contains("BEGIN"), "{shown}");
    }
    let sent = server.received_requests().await.unwrap_or_default();
    assert!(sent.is_empty(), "nothing is sent with an unusable key");
}
