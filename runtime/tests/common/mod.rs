//! Helpers for building static descriptors in tests.
#![allow(dead_code)]

use airbyte_agent_runtime::*;

pub const fn param(
    name: &'static str,
    location: ParamLocation,
    kind: ValueKind,
) -> ParamDescriptor {
    ParamDescriptor {
        name,
        location,
        required: false,
        kind,
        item_kind: None,
        nullable: false,
        enum_values: &[],
        default: None,
        style: ParamStyle::Form,
        description: "",
        schema: "{}",
        config_inject: None,
    }
}

pub const fn query(name: &'static str, kind: ValueKind) -> ParamDescriptor {
    param(name, ParamLocation::Query, kind)
}

pub const fn path(name: &'static str) -> ParamDescriptor {
    ParamDescriptor {
        required: true,
        ..param(name, ParamLocation::Path, ValueKind::String)
    }
}

pub const fn body(name: &'static str, kind: ValueKind) -> ParamDescriptor {
    param(name, ParamLocation::Body, kind)
}

pub const RESPONSE: ResponseDescriptor = ResponseDescriptor {
    record_extractor: None,
    meta_extractor: &[],
    record_filter: None,
    record_transform: &[],
    file_url: None,
    no_content: false,
    data_schema: None,
};

pub const fn op(
    entity: &'static str,
    action: &'static str,
    kind: ActionKind,
    method: Method,
    path: &'static str,
) -> OperationDescriptor {
    OperationDescriptor {
        entity,
        action,
        kind,
        method,
        path,
        summary: "",
        description: "",
        params: &[],
        body: BodyDescriptor::None,
        response: RESPONSE,
        pagination: Pagination::None,
        preferred_for_check: false,
    }
}

pub const fn scheme(key: &'static str, kind: AuthKind) -> AuthSchemeDescriptor {
    AuthSchemeDescriptor {
        key,
        title: "",
        description: "",
        kind,
        fields: &[],
        mapping: &[],
        additional_headers: &[],
    }
}

pub const fn field(name: &'static str, required: bool) -> AuthField {
    AuthField {
        name,
        title: "",
        description: "",
        required,
    }
}

/// OAuth2 with the refresh-token grant at `refresh_url`, client credentials in the form body.
pub const fn oauth2(refresh_url: &'static str) -> OAuth2Descriptor {
    OAuth2Descriptor {
        refresh_url: Some(refresh_url),
        authorization_url: None,
        token_url: None,
        client_auth: TokenClientAuth::Body,
        body_format: TokenBodyFormat::Form,
        token_extract: &[],
        grant: TokenGrant::RefreshToken,
        scopes: &[],
    }
}

/// Answers `GET` with `{"id": "u1"}` when the bearer token ends with `.0`, else 401.
pub struct NeedsToken(pub &'static str);
impl wiremock::Respond for NeedsToken {
    fn respond(&self, req: &wiremock::Request) -> wiremock::ResponseTemplate {
        let auth = req
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if auth.ends_with(self.0) {
            wiremock::ResponseTemplate::new(200).set_body_json(serde_json::json!({"id": "u1"}))
        } else {
            wiremock::ResponseTemplate::new(401)
                .set_body_json(serde_json::json!({"message": "expired"}))
        }
    }
}

pub const BEARER: AuthSchemeDescriptor = AuthSchemeDescriptor {
    fields: &[field("api_key", true)],
    mapping: &[("token", "${api_key}")],
    ..scheme("bearerAuth", AuthKind::Bearer)
};

pub const fn connector(
    auth_schemes: &'static [AuthSchemeDescriptor],
    entities: &'static [EntityDescriptor],
) -> ConnectorDescriptor {
    ConnectorDescriptor {
        name: "test",
        title: "Test",
        version: "0.0.1",
        definition_id: "00000000-0000-0000-0000-000000000000",
        base_url: "https://api.example.invalid",
        server_variables: &[],
        auth_schemes,
        entities,
        scoping: &[],
        response_error_check: None,
        record_schemas: "",
    }
}

pub fn bearer_creds() -> Credentials {
    Credentials::new("bearerAuth").set("api_key", "sk_test_secret_value".to_string())
}

/// A client on the given connector, pointing at `uri`, with fast retries.
pub fn client(d: &'static ConnectorDescriptor, creds: Credentials, uri: &str) -> Client {
    Client::builder(d, creds)
        .base_url(uri)
        .retry_policy(
            RetryPolicy::default()
                .base_delay(std::time::Duration::from_millis(5))
                .max_delay(std::time::Duration::from_millis(50)),
        )
        .build()
        .expect("client builds")
}

pub fn params(v: serde_json::Value) -> Params {
    match v {
        serde_json::Value::Object(m) => m,
        _ => panic!("params must be an object"),
    }
}
