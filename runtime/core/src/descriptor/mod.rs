//! Static descriptions of connectors: the data that generated crates emit and the runtime executes.
//!
//! A generated connector crate contains one `static` [`ConnectorDescriptor`] built from its spec.
//! Every behaviour (URL building, auth, bodies, extraction, pagination, retries) lives in this
//! runtime and is driven by these values, so the generated code stays small: data plus thin typed
//! wrappers. The generator (`codegen`) builds the same values at run time from any spec (used by
//! `cargo xtask oracle`), so both paths execute through identical code.
//!
//! All fields are `&'static`: generated crates write them as literals; tools that build
//! descriptors dynamically leak them once per process.
//!
//! Every struct has a `const DEFAULT` value. Generated crates spell out only the fields that
//! differ from it and end each literal with `..Type::DEFAULT`, so a field added here (with its
//! default) is an additive change that does not break any generated crate:
//!
//! ```
//! use airbyte_agent_core::{ParamDescriptor, ParamLocation};
//!
//! static ID: ParamDescriptor = ParamDescriptor {
//!     name: "id",
//!     location: ParamLocation::Path,
//!     required: true,
//!     ..ParamDescriptor::DEFAULT
//! };
//! assert_eq!(ID.schema, r#"{"type":"string"}"#);
//! ```

mod auth;
mod operation;

pub use auth::*;
pub use operation::*;

/// A whole connector: identity, base URL, auth options and operations.
#[derive(Debug)]
pub struct ConnectorDescriptor {
    /// Connector slug, e.g. `stripe`, `zendesk-support`.
    pub name: &'static str,
    /// Human title of the connector.
    pub title: &'static str,
    /// The spec's `info.version`.
    pub version: &'static str,
    /// Airbyte connector definition id (UUID), used by hosted mode.
    pub definition_id: &'static str,
    /// Base URL template with `{variable}` placeholders (`servers[0].url`).
    pub base_url: &'static str,
    /// Variables of the base URL template.
    pub server_variables: &'static [ServerVariable],
    /// Every auth option of the connector (all `components.securitySchemes`).
    pub auth_schemes: &'static [AuthSchemeDescriptor],
    /// Entities with their operations.
    pub entities: &'static [EntityDescriptor],
    /// Path parameters filled from connector config when the caller omits them.
    pub scoping: &'static [Scoping],
    /// HTTP-200 responses that are really errors (`x-airbyte-response-error-check`).
    pub response_error_check: Option<ResponseErrorCheck>,
    /// JSON Schemas of the record types, as the JSON text of an object `{type name: schema}`
    /// (`""`: none); operations' [`data_schema`](ResponseDescriptor::data_schema)s refer to them
    /// as `#/$defs/<name>`.
    pub record_schemas: &'static str,
}

impl ConnectorDescriptor {
    /// The base value for struct-update syntax (`..ConnectorDescriptor::DEFAULT`): every text
    /// empty, no server variables, auth options, entities or scoping, no response error check.
    pub const DEFAULT: Self = ConnectorDescriptor {
        name: "",
        title: "",
        version: "",
        definition_id: "",
        base_url: "",
        server_variables: &[],
        auth_schemes: &[],
        entities: &[],
        scoping: &[],
        response_error_check: None,
        record_schemas: "",
    };
}

/// A variable of the base URL template.
#[derive(Debug)]
pub struct ServerVariable {
    /// Placeholder name.
    pub name: &'static str,
    /// Default value from the spec, if any.
    pub default: Option<&'static str>,
    /// Allowed values (not enforced; informational).
    pub enum_values: &'static [&'static str],
    /// Description.
    pub description: &'static str,
}

impl ServerVariable {
    /// The base value for struct-update syntax: no default, no allowed values, no description.
    pub const DEFAULT: Self = ServerVariable {
        name: "",
        default: None,
        enum_values: &[],
        description: "",
    };
}

/// A path parameter filled from config (`x-airbyte-scoping`).
#[derive(Debug)]
pub struct Scoping {
    /// Parameter name.
    pub param: &'static str,
    /// Config key holding the value (defaults to the parameter name).
    pub config_key: &'static str,
}

impl Scoping {
    /// The base value for struct-update syntax: empty parameter and config key.
    pub const DEFAULT: Self = Scoping {
        param: "",
        config_key: "",
    };
}

/// `x-airbyte-response-error-check`.
#[derive(Debug)]
pub struct ResponseErrorCheck {
    /// Top-level field to inspect.
    pub field: &'static str,
    /// JSON text of the value that signals an error (e.g. `false`).
    pub on_value: &'static str,
    /// Field holding the error message.
    pub message_field: Option<&'static str>,
}

impl ResponseErrorCheck {
    /// The base value for struct-update syntax: empty field and value, no message field.
    pub const DEFAULT: Self = ResponseErrorCheck {
        field: "",
        on_value: "",
        message_field: None,
    };
}

/// An entity: a noun of the API with its operations.
#[derive(Debug)]
pub struct EntityDescriptor {
    /// Entity name as in the spec (`customers`).
    pub name: &'static str,
    /// Description.
    pub description: &'static str,
    /// Operations, one per action.
    pub operations: &'static [OperationDescriptor],
}

impl EntityDescriptor {
    /// The base value for struct-update syntax: no description, no operations.
    pub const DEFAULT: Self = EntityDescriptor {
        name: "",
        description: "",
        operations: &[],
    };
}

impl ConnectorDescriptor {
    /// Find an operation by entity and action name.
    pub fn operation(&self, entity: &str, action: &str) -> Option<&'static OperationDescriptor> {
        self.entities
            .iter()
            .find(|e| e.name == entity)
            .and_then(|e| e.operations.iter().find(|o| o.action == action))
    }

    /// Find an entity by name.
    pub fn entity(&self, entity: &str) -> Option<&'static EntityDescriptor> {
        self.entities.iter().find(|e| e.name == entity)
    }
}
