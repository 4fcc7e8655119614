//! One operation of `paths`: entity, action, parameters, request body and Airbyte extensions.

use super::{GraphQlView, Node, Operation, Parameter, RequestBody};
use super::{SpecError, Warning};

const KNOWN_OP_KEYS: &[&str] = &[
    "summary",
    "description",
    "operationId",
    "tags",
    "parameters",
    "requestBody",
    "responses",
    "deprecated",
    "x-airbyte-entity",
    "x-airbyte-action",
    "x-airbyte-record-extractor",
    "x-airbyte-meta-extractor",
    "x-airbyte-path-override",
    "x-airbyte-no-pagination",
    "x-airbyte-preferred-for-check",
    "x-airbyte-untested",
    "x-airbyte-ai-hints",
    "x-airbyte-file-url",
    "x-airbyte-record-filter",
    "x-airbyte-record-transform",
    "x-airbyte-upload-file-param",
];

pub(super) fn parse_operation<'a>(
    key: &str,
    method: &str,
    op: Node<'a>,
    warnings: &mut Vec<Warning>,
) -> Result<Operation<'a>, SpecError> {
    for (k, v) in op.entries()? {
        if !KNOWN_OP_KEYS.contains(&k) {
            let what = if k.starts_with("x-") {
                "unknown extension"
            } else {
                "unknown key"
            };
            warnings.push(v.warn(format!("{what} `{k}` ignored")));
        }
    }
    let entity = op.req("x-airbyte-entity")?;
    let entity_name = entity.as_str()?.trim().to_string();
    if entity_name.is_empty() {
        return Err(entity.err("entity name is empty"));
    }
    let action = op.req("x-airbyte-action")?;
    let action_name = action.as_str()?.trim().to_string();
    if action_name.is_empty() {
        return Err(action.err("action name is empty"));
    }
    let path_override = match op.get("x-airbyte-path-override") {
        Some(o) if o.value.is_string() => Some(o.as_str()?.to_string()),
        Some(o) => Some(o.req_str("path")?.to_string()),
        None => None,
    };
    let mut parameters = Vec::new();
    if let Some(ps) = op.get("parameters") {
        for p in ps.items()? {
            if p.get("$ref").is_some() {
                return Err(p.err("parameter `$ref`s are not supported; declare parameters inline"));
            }
            let location = p.req_str("in")?.to_string();
            let config_inject = match p.get("x-airbyte-param-config-inject") {
                Some(c) => Some((
                    c.req_str("source")?.to_string(),
                    c.get("map")
                        .map(|m| m.str_map())
                        .transpose()?
                        .unwrap_or_default(),
                )),
                None => None,
            };
            parameters.push(Parameter {
                name: p.req("name")?.as_text()?,
                required: p.bool_of("required")?.unwrap_or(location == "path"),
                location,
                schema: p.get("schema"),
                description: p.text_of("description")?.unwrap_or_default(),
                style: p.text_of("style")?,
                config_inject,
                path: p.path.clone(),
            });
        }
    }
    let request_body = match op.get("requestBody") {
        Some(b) => {
            let mut content = Vec::new();
            if let Some(c) = b.get("content") {
                for (ct, media) in c.entries()? {
                    content.push((ct.to_string(), media.get("schema")));
                }
            }
            let graphql = match b.get("x-airbyte-body-type") {
                Some(g) => {
                    let t = g.text_of("type")?.unwrap_or_default();
                    if t != "graphql" {
                        return Err(g
                            .req("type")?
                            .err(format!("unsupported body type `{t}` (expected `graphql`)")));
                    }
                    Some(GraphQlView {
                        query: g.req("query")?.as_text()?,
                        variables: g.get("variables").map(|v| v.value.clone()),
                        default_fields: g.get("default_fields").map(|v| v.value.clone()),
                        operation_name: g.text_of("operationName")?,
                        nullable_variables: g
                            .get("x-airbyte-nullable-variables")
                            .map(|v| v.str_list())
                            .transpose()?
                            .unwrap_or_default(),
                    })
                }
                None => None,
            };
            Some(RequestBody {
                required: b.bool_of("required")?.unwrap_or(false),
                content,
                graphql,
            })
        }
        None => None,
    };
    let mut response_schema = None;
    let mut no_content = false;
    if let Some(rs) = op.get("responses") {
        let entries = rs.entries()?;
        for code in ["200", "201", "202", "2XX", "default"] {
            if let Some((_, r)) = entries.iter().find(|(k, _)| *k == code) {
                if let Some(c) = r.get("content") {
                    for (ct, media) in c.entries()? {
                        if ct.contains("json")
                            && let Some(s) = media.get("schema")
                        {
                            response_schema = Some(s);
                            break;
                        }
                    }
                }
                if response_schema.is_some() {
                    break;
                }
            }
        }
        let has_2xx_content = entries
            .iter()
            .any(|(k, r)| k.starts_with('2') && *k != "204" && r.get("content").is_some());
        no_content = entries.iter().any(|(k, _)| *k == "204") && !has_2xx_content;
    }
    let meta_extractor = op
        .get("x-airbyte-meta-extractor")
        .map(|m| m.str_map())
        .transpose()?
        .unwrap_or_default();
    let record_transform = op
        .get("x-airbyte-record-transform")
        .map(|m| m.str_map())
        .transpose()?
        .unwrap_or_default();
    Ok(Operation {
        path_key: key.to_string(),
        method: method.to_string(),
        entity: entity_name,
        action: action_name,
        path_override,
        summary: op.text_of("summary")?.unwrap_or_default(),
        description: op.text_of("description")?.unwrap_or_default(),
        parameters,
        request_body,
        response_schema,
        no_content,
        record_extractor: op.text_of("x-airbyte-record-extractor")?,
        meta_extractor,
        record_filter: op.text_of("x-airbyte-record-filter")?,
        record_transform,
        file_url: op.text_of("x-airbyte-file-url")?,
        no_pagination: op.get("x-airbyte-no-pagination").is_some(),
        preferred_for_check: op
            .bool_of("x-airbyte-preferred-for-check")?
            .unwrap_or(false),
        upload_file_param: op.text_of("x-airbyte-upload-file-param")?,
        node: op,
    })
}
