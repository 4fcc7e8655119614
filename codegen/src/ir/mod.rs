//! The validated intermediate representation of a connector: everything the descriptor and the
//! emitter need, with all naming decisions already made.
//!
//! [`build`] reads the spec view in steps: server and auth ([`auth`]), entities and their
//! operations ([`operation`]), record and meta types ([`records`], [`types`]).

mod auth;
mod graphql;
pub mod json_schema;
mod model;
pub mod naming;
mod operation;
mod pagination;
mod records;
pub mod types;

use std::collections::BTreeMap;

use self::auth::{build_auth, build_replication, is_placeholder};
pub use self::model::*;
use self::naming::{Namer, connector_pascal, pascal_base, safe_snake, shouty, snake_base};
use self::operation::build_operation;
pub use self::pagination::PaginationIr;
use self::records::entity_description;
use self::types::{RESERVED_TYPE_NAMES, RustType, TypeBuilder};
use crate::spec::{Operation as SpecOp, Spec, SpecError, Warning};

/// Build the IR from a parsed document.
pub fn build(doc: &crate::spec::Document) -> Result<Loaded, SpecError> {
    let spec = Spec::from_root(&doc.root)?;
    let mut warnings = spec.warnings.clone();
    let info = &spec.info;
    let pascal = connector_pascal(&info.connector_name);
    if pascal.is_empty() {
        return Err(SpecError {
            file: Default::default(),
            path: "info.x-airbyte-connector-name".into(),
            message: format!(
                "connector name `{}` yields no identifier",
                info.connector_name
            ),
        });
    }
    let snake = snake_base(&info.connector_name);

    // Type namespace: handles, requests, auth and connector types are reserved up front.
    let mut reserved: Vec<String> = RESERVED_TYPE_NAMES.iter().map(|s| s.to_string()).collect();
    reserved.push(format!("{pascal}Connector"));
    reserved.push(format!("{pascal}ConnectorBuilder"));
    let mut type_namer =
        Namer::with_reserved(&reserved.iter().map(String::as_str).collect::<Vec<_>>());

    // Server.
    let (base_url, server_variables) = match &spec.server {
        Some(s) => {
            let mut namer = Namer::with_reserved(&[
                "base_url",
                "timeout",
                "connect_timeout",
                "retry_policy",
                "build",
                "on_token_refresh",
                "refresh_url",
                "max_pages",
                "auth",
                "inner",
            ]);
            let vars = s
                .variables
                .iter()
                .map(|v| ServerVariable {
                    name: v.name.clone(),
                    rust_name: namer.unique(&safe_snake(&snake_base(&v.name))),
                    default: v.default.clone(),
                    enum_values: v.enum_values.clone(),
                    description: v.description.clone(),
                    required: is_placeholder(v.default.as_deref()),
                })
                .collect();
            (s.url.clone(), vars)
        }
        None => {
            warnings.push(Warning {
                path: "servers".into(),
                message: "no server declared; base URL must be set".into(),
            });
            (String::new(), Vec::new())
        }
    };

    // Auth.
    let auth = build_auth(&spec, &pascal, &mut type_namer, &mut warnings)?;
    let auth_type = if auth.len() == 1 {
        auth[0].type_name.clone()
    } else {
        type_namer.unique(&format!("{pascal}AuthConfig"))
    };
    let replication = info
        .replication_config
        .as_ref()
        .map(|r| build_replication(r, &type_namer.unique(&format!("{pascal}ReplicationConfig"))));

    // Group operations by entity; duplicate (entity, action) → last wins.
    let mut order: Vec<String> = Vec::new();
    let mut by_entity: BTreeMap<String, Vec<SpecOp<'_>>> = BTreeMap::new();
    for op in &spec.operations {
        let list = by_entity.entry(op.entity.clone()).or_insert_with(|| {
            order.push(op.entity.clone());
            Vec::new()
        });
        if let Some(pos) = list.iter().position(|o| o.action == op.action) {
            warnings.push(op.node.warn(format!(
                "duplicate operation for entity `{}` action `{}` (also at `{}`); keeping the last one",
                op.entity, op.action, list[pos].node.path
            )));
            list[pos] = op.clone();
        } else {
            list.push(op.clone());
        }
    }

    let mut entity_namer = Namer::with_reserved(&[
        "new",
        "builder",
        "hosted",
        "create_hosted",
        "from_client",
        "check",
        "execute",
        "client",
        "descriptor",
        "operations",
        "meta",
        "auth",
        "types",
        "entities",
        "clone",
        "fmt",
    ]);
    let mut feature_namer = Namer::with_reserved(&["default", "full"]);
    let mut static_namer = Namer::with_reserved(&["CONNECTOR"]);
    let mut entity_shells = Vec::new();
    for name in &order {
        let rust_name = entity_namer.unique(&safe_snake(&snake_base(name)));
        let type_name = type_namer.unique(&pascal_base(name));
        let feature = feature_namer.unique(&snake_base(name));
        let static_name = static_namer.unique(&shouty(name));
        entity_shells.push((name.clone(), rust_name, type_name, feature, static_name));
    }

    let mut tb = TypeBuilder::new(&spec.schemas, type_namer);
    let mut entities = Vec::new();
    for (name, rust_name, type_name, feature, static_name) in entity_shells {
        let ops = by_entity.remove(&name).unwrap_or_default();
        let mut action_namer = Namer::with_reserved(&["new", "client", "clone", "fmt"]);
        let mut operations = Vec::new();
        let mut roots = Vec::new();
        for op in &ops {
            let o = build_operation(
                op,
                &type_name,
                &mut action_namer,
                &mut tb,
                &spec,
                &mut warnings,
            )?;
            for p in &o.params {
                roots.push(p.ty.clone());
            }
            match &o.output {
                OutputIr::Record(t) => roots.push(t.clone()),
                OutputIr::Page(t, m) => {
                    roots.push(t.clone());
                    roots.push(RustType::Named(*m));
                }
                OutputIr::Bytes => {}
            }
            operations.push(o);
        }
        tb.mark_users(&name, &roots);
        let description = entity_description(&spec, &name, &operations, &tb.graph);
        entities.push(Entity {
            name,
            description,
            rust_name,
            type_name,
            feature,
            static_name,
            operations,
        });
    }
    warnings.append(&mut tb.warnings);

    let connector = Connector {
        name: info.connector_name.clone(),
        title: info.title.clone(),
        version: info.version.clone(),
        description: info.description.clone(),
        definition_id: info.definition_id.clone(),
        spec_sha256: doc.sha256.clone(),
        pascal,
        snake,
        base_url,
        server_variables,
        auth,
        auth_type,
        scoping: info.scoping.clone(),
        response_error_check: info.response_error_check.clone(),
        entities,
        types: tb.graph,
        replication,
    };
    Ok(Loaded {
        ir: connector,
        warnings,
    })
}
