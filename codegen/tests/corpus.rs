//! Every corpus spec (`../shared/airbyte-specs/{current,previous}`, beside the checkout) loads,
//! yields a descriptor and emits parseable code; a few IR facts are checked.

use std::path::{Path, PathBuf};

use airbyte_agent_runtime::{BodyDescriptor, Pagination, ParamLocation, ParamStyle};

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/airbyte-specs")
}

fn spec(folder: &str, name: &str) -> PathBuf {
    corpus().join(folder).join(name).join("connector.yaml")
}

#[test]
fn all_corpus_specs_load_and_emit() {
    let mut count = 0;
    for folder in ["current", "previous"] {
        let dir = corpus().join(folder);
        let rd = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()));
        let mut names: Vec<_> = rd
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("connector.yaml").is_file())
            .collect();
        names.sort();
        for p in names {
            let file = p.join("connector.yaml");
            let loaded = airbyte_agent_codegen::load(&file).unwrap_or_else(|e| panic!("{e}"));
            let d = airbyte_agent_codegen::descriptor(&loaded.ir);
            assert!(!d.entities.is_empty(), "{}: no entities", file.display());
            for e in d.entities {
                for o in e.operations {
                    assert!(d.operation(e.name, o.action).is_some());
                    for p in o.params {
                        assert!(
                            serde_json::from_str::<serde_json::Value>(p.schema).is_ok(),
                            "param schema is JSON"
                        );
                    }
                }
            }
            let opts = airbyte_agent_codegen::emit::EmitOptions::in_repo(&loaded.ir);
            airbyte_agent_codegen::emit::emit_crate(&loaded.ir, &opts)
                .unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            count += 1;
        }
    }
    assert_eq!(count, 82, "expected 41 current + 41 previous specs");
}

#[test]
fn stripe_facts() {
    let l = airbyte_agent_codegen::load(&spec("current", "stripe")).unwrap();
    let d = airbyte_agent_codegen::descriptor(&l.ir);
    let list = d.operation("customers", "list").expect("customers.list");
    let created = list
        .params
        .iter()
        .find(|p| p.name == "created")
        .expect("created param");
    assert_eq!(created.style, ParamStyle::DeepObject);
    assert_eq!(created.location, ParamLocation::Query);
    assert!(matches!(
        list.pagination,
        Pagination::LastRecord {
            param: "starting_after",
            ..
        }
    ));
    let create = d
        .operation("customers", "create")
        .expect("customers.create");
    assert!(matches!(create.body, BodyDescriptor::Form));
    assert!(
        create
            .params
            .iter()
            .any(|p| p.location == ParamLocation::Body && p.name == "email")
    );
    assert_eq!(l.ir.auth[0].type_name, "StripeAuthConfig");
}

#[test]
fn github_has_graphql_bodies_and_relay_pagination() {
    let l = airbyte_agent_codegen::load(&spec("current", "github")).unwrap();
    let d = airbyte_agent_codegen::descriptor(&l.ir);
    let ops: Vec<_> = d
        .entities
        .iter()
        .flat_map(|e| e.operations.iter())
        .collect();
    let graphql = ops
        .iter()
        .filter(|o| matches!(o.body, BodyDescriptor::GraphQl(_)))
        .count();
    assert!(graphql >= 40, "github GraphQL operations: {graphql}");
    assert!(
        ops.iter()
            .filter(|o| matches!(o.body, BodyDescriptor::GraphQl(_)))
            .all(|o| o.path == "/graphql")
    );
    let relay = ops
        .iter()
        .filter(|o| matches!(o.pagination, Pagination::Relay { .. }))
        .count();
    assert!(relay >= 20, "relay pagination: {relay}");
    assert_eq!(l.ir.auth.len(), 2);
}

#[test]
fn known_defects_are_tolerated_with_warnings() {
    let z = airbyte_agent_codegen::load(&spec("current", "zendesk-support")).unwrap();
    assert!(z.warnings.iter().any(|w| {
        w.message
            .contains("duplicate operation for entity `ticket_audits`")
    }));
    let d = airbyte_agent_codegen::descriptor(&z.ir);
    // Last declaration wins (matches the reference loader).
    assert_eq!(
        d.operation("ticket_audits", "list").unwrap().path,
        "/tickets/{ticket_id}/audits.json"
    );

    let a = airbyte_agent_codegen::load(&spec("current", "asana")).unwrap();
    assert!(
        a.warnings
            .iter()
            .any(|w| w.path.ends_with("Task.properties.gid") && w.message.contains("misplaced"))
    );

    let j = airbyte_agent_codegen::load(&spec("current", "jira")).unwrap();
    assert!(j.warnings.iter().any(|w| w.message.contains("nullable")));
}

#[test]
fn auth_naming_follows_the_reference() {
    let g = airbyte_agent_codegen::load(&spec("current", "gong")).unwrap();
    let names: Vec<&str> = g.ir.auth.iter().map(|a| a.type_name.as_str()).collect();
    assert!(
        names.contains(&"GongAccessKeyAuthenticationAuthConfig"),
        "{names:?}"
    );
    assert!(
        names.contains(&"GongOauth20AuthenticationAuthConfig"),
        "{names:?}"
    );
    assert_eq!(g.ir.auth_type, "GongAuthConfig");

    let z = airbyte_agent_codegen::load(&spec("current", "zendesk-support")).unwrap();
    let sub =
        z.ir.server_variables
            .iter()
            .find(|v| v.name == "subdomain")
            .unwrap();
    assert!(
        sub.required,
        "placeholder default makes the variable required"
    );
    let s = airbyte_agent_codegen::load(&spec("current", "slack")).unwrap();
    assert!(
        airbyte_agent_codegen::descriptor(&s.ir)
            .response_error_check
            .is_some()
    );
}

/// Every parameter the spec marks `required` is a constructor argument of the typed API, whatever
/// its location, unless the runtime always fills it (a header with a default).
#[test]
fn required_params_are_constructor_arguments() {
    let mut args = 0;
    let mut exempt = Vec::new();
    for folder in ["current", "previous"] {
        let dir = corpus().join(folder);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("corpus folder {}: {e}", dir.display()))
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.join("connector.yaml").is_file())
            .collect();
        names.sort();
        for p in names {
            let loaded = airbyte_agent_codegen::load(&p.join("connector.yaml")).unwrap();
            let ir = &loaded.ir;
            for e in &ir.entities {
                for o in &e.operations {
                    for prm in o.params.iter().filter(|p| p.required) {
                        if prm.is_arg {
                            args += 1;
                            continue;
                        }
                        let why = if prm.location == ParamLocation::Header && prm.default.is_some()
                        {
                            "header default"
                        } else {
                            panic!(
                                "{}: {}.{} required `{}` is not an argument",
                                ir.name, o.entity, o.action, prm.name
                            )
                        };
                        exempt.push(format!(
                            "{}/{}.{}:{} ({why})",
                            ir.name, o.entity, o.action, prm.name
                        ));
                    }
                }
            }
        }
    }
    eprintln!(
        "{args} required params are arguments; {} exempt (header defaults)",
        exempt.len()
    );
    assert!(args > 100);
}

#[test]
fn github_graphql_required_inputs_are_arguments() {
    let l = airbyte_agent_codegen::load(&spec("current", "github")).unwrap();
    let op =
        l.ir.entities
            .iter()
            .flat_map(|e| &e.operations)
            .find(|o| o.entity == "repositories" && o.action == "get")
            .expect("repositories.get");
    for name in ["owner", "repo"] {
        let p = op.params.iter().find(|p| p.name == name).unwrap();
        assert!(
            p.required && p.is_arg,
            "{name} must be a constructor argument"
        );
    }
}

/// Every corpus spec with `x-airbyte-replication-config` yields `<Pascal>ReplicationConfig`
/// with one typed field per property; required properties are constructor arguments.
#[test]
fn replication_configs_become_typed_settings() {
    use airbyte_agent_codegen::ir::ReplicationType;
    let mut with_config = 0;
    for name in ["stripe", "slack", "github", "pylon", "intercom"] {
        let file = spec("current", name);
        let l = airbyte_agent_codegen::load(&file).unwrap_or_else(|e| panic!("{e}"));
        let raw = std::fs::read_to_string(&file).unwrap();
        let Some(r) = &l.ir.replication else {
            assert!(
                !raw.contains("x-airbyte-replication-config"),
                "{name}: config declared but not typed"
            );
            continue;
        };
        with_config += 1;
        assert_eq!(r.type_name, format!("{}ReplicationConfig", l.ir.pascal));
        assert!(!r.fields.is_empty(), "{name}: no fields");
        for f in &r.fields {
            assert!(
                raw.contains(&format!("{}:", f.name)),
                "{name}: field {} not in the spec",
                f.name
            );
        }
        let code = airbyte_agent_codegen::emit::emit_crate(
            &l.ir,
            &airbyte_agent_codegen::emit::EmitOptions::in_repo(&l.ir),
        )
        .unwrap();
        let auth = code
            .iter()
            .find(|f| f.path.ends_with("src/auth.rs"))
            .expect("auth.rs");
        assert!(
            auth.contents
                .contains(&format!("pub struct {}", r.type_name))
        );
        let lib = code
            .iter()
            .find(|f| f.path.ends_with("src/lib.rs"))
            .expect("lib.rs");
        assert!(
            lib.contents
                .contains(&format!("replication: {}", r.type_name))
        );
    }
    assert!(with_config >= 3, "the sample should include typed configs");

    // Stripe: one required string; Slack: integers and booleans typed as such.
    let stripe = airbyte_agent_codegen::load(&spec("current", "stripe")).unwrap();
    let r = stripe.ir.replication.expect("stripe replication config");
    let account = r.fields.iter().find(|f| f.name == "account_id").unwrap();
    assert!(account.required);
    assert_eq!(account.ty, ReplicationType::String);
    let slack = airbyte_agent_codegen::load(&spec("current", "slack")).unwrap();
    let r = slack.ir.replication.expect("slack replication config");
    let ty = |n: &str| r.fields.iter().find(|f| f.name == n).map(|f| f.ty);
    assert_eq!(ty("lookback_window"), Some(ReplicationType::Integer));
    assert_eq!(ty("join_channels"), Some(ReplicationType::Boolean));
    assert_eq!(ty("start_date"), Some(ReplicationType::String));
}

/// `api.json` records every public method of the connector type (so a renamed or removed
/// method is reported as breaking): the list equals the emitted `impl`.
#[test]
fn api_summary_lists_every_connector_method() {
    let l = airbyte_agent_codegen::load(&spec("current", "stripe")).unwrap();
    let code = airbyte_agent_codegen::emit::emit_crate(
        &l.ir,
        &airbyte_agent_codegen::emit::EmitOptions::in_repo(&l.ir),
    )
    .unwrap();
    let lib = code
        .iter()
        .find(|f| f.path.ends_with("src/lib.rs"))
        .expect("lib.rs");
    let file = syn::parse_file(&lib.contents).expect("lib.rs parses");
    let connector = format!("{}Connector", l.ir.pascal);
    let entity_methods: Vec<&str> = l.ir.entities.iter().map(|e| e.rust_name.as_str()).collect();
    let mut emitted: Vec<String> = Vec::new();
    for item in &file.items {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(p) = &*imp.self_ty else {
            continue;
        };
        if imp.trait_.is_some() || !p.path.is_ident(&connector) {
            continue;
        }
        for i in &imp.items {
            if let syn::ImplItem::Fn(f) = i
                && matches!(f.vis, syn::Visibility::Public(_))
            {
                let name = f.sig.ident.to_string();
                if !entity_methods.contains(&name.as_str()) {
                    emitted.push(name);
                }
            }
        }
    }
    emitted.sort();
    let summary = airbyte_agent_codegen::api::summary(&l.ir, "0.1.0");
    let mut listed: Vec<String> = summary["items"]
        .as_object()
        .expect("items")
        .keys()
        .filter_map(|k| k.strip_prefix("connector.").map(str::to_string))
        .collect();
    listed.sort();
    assert_eq!(emitted, listed);
}

#[test]
fn service_account_keys_use_the_jwt_bearer_grant() {
    use airbyte_agent_runtime::TokenGrant;
    let file = spec("current", "google-analytics-data-api");
    let grants = |l: &airbyte_agent_codegen::Loaded| -> Vec<(String, TokenGrant, Vec<String>)> {
        let d = airbyte_agent_codegen::descriptor(&l.ir);
        d.auth_schemes
            .iter()
            .filter_map(|s| {
                let o = s.kind.oauth2()?;
                let scopes = o.scopes.iter().map(|s| s.to_string()).collect();
                Some((s.key.to_string(), o.grant, scopes))
            })
            .collect()
    };
    let l = airbyte_agent_codegen::load(&file).unwrap();
    let scope = vec!["https://www.googleapis.com/auth/analytics.readonly".to_string()];
    assert_eq!(
        grants(&l),
        [
            (
                "oauth2".to_string(),
                TokenGrant::RefreshToken,
                scope.clone()
            ),
            (
                "serviceAccount".to_string(),
                TokenGrant::JwtBearer,
                scope.clone()
            ),
        ]
    );
    assert!(!l.warnings.iter().any(|w| w.message.contains("grant")));

    // A grant the runtime does not know is a warning naming it; the default grant is kept.
    let text = std::fs::read_to_string(&file).unwrap();
    let changed = text.replace("grant_type: jwt_bearer", "grant_type: device_code");
    assert_ne!(text, changed);
    let l = airbyte_agent_codegen::load_bytes(&file, changed.as_bytes()).unwrap();
    assert_eq!(grants(&l)[1].1, TokenGrant::RefreshToken);
    let w = l
        .warnings
        .iter()
        .find(|w| w.message.contains("`device_code`"))
        .expect("warning for the unknown grant");
    assert!(
        w.path
            .ends_with("serviceAccount.x-airbyte-token-refresh.grant_type"),
        "{}",
        w.path
    );
}
