//! IR → `&'static ConnectorDescriptor`, built once per call by leaking the strings and slices.
//!
//! This is the only IR → descriptor mapping: the emitter writes the crate's `static` from the value
//! built here (see `emit::tokens`), so the generated data and the dynamic data cannot drift.

use airbyte_agent_core::*;

use crate::ir::{AuthKindIr, BodyIr, Connector, PaginationIr};

fn s(v: &str) -> &'static str {
    Box::leak(v.to_string().into_boxed_str())
}

fn os(v: &Option<String>) -> Option<&'static str> {
    v.as_deref().map(s)
}

fn slice<T>(v: Vec<T>) -> &'static [T] {
    Box::leak(v.into_boxed_slice())
}

fn strs(v: &[String]) -> &'static [&'static str] {
    slice(v.iter().map(|x| s(x)).collect())
}

fn pairs(v: &[(String, String)]) -> &'static [(&'static str, &'static str)] {
    slice(v.iter().map(|(a, b)| (s(a), s(b))).collect())
}

/// Build the runtime descriptor of a connector (leaked: call once per connector and process).
pub fn descriptor(ir: &Connector) -> &'static ConnectorDescriptor {
    Box::leak(Box::new(build(ir)))
}

fn build(ir: &Connector) -> ConnectorDescriptor {
    ConnectorDescriptor {
        name: s(&ir.name),
        title: s(&ir.title),
        version: s(&ir.version),
        definition_id: s(&ir.definition_id),
        base_url: s(&ir.base_url),
        server_variables: slice(
            ir.server_variables
                .iter()
                .map(|v| ServerVariable {
                    name: s(&v.name),
                    default: os(&v.default),
                    enum_values: strs(&v.enum_values),
                    description: s(&v.description),
                })
                .collect(),
        ),
        auth_schemes: slice(
            ir.auth
                .iter()
                .map(|a| AuthSchemeDescriptor {
                    key: s(&a.key),
                    title: s(&a.title),
                    description: s(&a.description),
                    kind: match &a.kind {
                        AuthKindIr::Bearer => AuthKind::Bearer,
                        AuthKindIr::Basic => AuthKind::Basic,
                        AuthKindIr::ApiKeyHeader(h) => AuthKind::ApiKeyHeader { header: s(h) },
                        AuthKindIr::ApiKeyQuery(n) => AuthKind::ApiKeyQuery { name: s(n) },
                        AuthKindIr::OAuth2 {
                            refresh_url,
                            authorization_url,
                            token_url,
                            client_auth,
                            body_format,
                            token_extract,
                            token_header,
                            grant,
                            scopes,
                        } => {
                            let oauth = OAuth2Descriptor {
                                refresh_url: os(refresh_url),
                                authorization_url: os(authorization_url),
                                token_url: os(token_url),
                                client_auth: *client_auth,
                                body_format: *body_format,
                                token_extract: strs(token_extract),
                                grant: *grant,
                                scopes: strs(scopes),
                            };
                            match token_header {
                                Some((header, prefix)) => AuthKind::OAuth2Header {
                                    oauth,
                                    header: s(header),
                                    prefix: s(prefix),
                                },
                                None => AuthKind::OAuth2(oauth),
                            }
                        }
                    },
                    fields: slice(
                        a.fields
                            .iter()
                            .map(|f| AuthField {
                                name: s(&f.name),
                                title: s(&f.title),
                                description: s(&f.description),
                                required: f.required,
                            })
                            .collect(),
                    ),
                    mapping: pairs(&a.mapping),
                    additional_headers: pairs(&a.additional_headers),
                })
                .collect(),
        ),
        entities: slice(
            ir.entities
                .iter()
                .map(|e| EntityDescriptor {
                    name: s(&e.name),
                    description: s(&e.description),
                    operations: slice(e.operations.iter().map(|o| operation(ir, o)).collect()),
                })
                .collect(),
        ),
        scoping: slice(
            ir.scoping
                .iter()
                .map(|(p, k)| Scoping {
                    param: s(p),
                    config_key: s(k),
                })
                .collect(),
        ),
        response_error_check: ir.response_error_check.as_ref().map(|(f, v, m)| {
            ResponseErrorCheck {
                field: s(f),
                on_value: s(v),
                message_field: os(m),
            }
        }),
        record_schemas: s(&crate::record_schema::definitions(ir)),
    }
}

fn operation(ir: &Connector, o: &crate::ir::OperationIr) -> OperationDescriptor {
    OperationDescriptor {
        entity: s(&o.entity),
        action: s(&o.action),
        kind: o.kind,
        method: o.method,
        path: s(&o.path),
        summary: s(&o.summary),
        description: s(&o.description),
        params: slice(
            o.params
                .iter()
                .map(|p| ParamDescriptor {
                    name: s(&p.name),
                    location: p.location,
                    required: p.required,
                    kind: p.kind,
                    item_kind: p.item_kind,
                    nullable: p.nullable,
                    enum_values: strs(&p.enum_values),
                    default: os(&p.default),
                    style: p.style,
                    description: s(&p.description),
                    schema: s(&p.schema),
                    config_inject: p.config_inject.as_ref().map(|(src, map)| ConfigInject {
                        source: s(src),
                        map: pairs(map),
                    }),
                })
                .collect(),
        ),
        body: match &o.body {
            BodyIr::None => BodyDescriptor::None,
            BodyIr::Json => BodyDescriptor::Json,
            BodyIr::JsonArray => BodyDescriptor::JsonArray,
            BodyIr::Form => BodyDescriptor::Form,
            BodyIr::MultipartRelated(f) => BodyDescriptor::MultipartRelated { file_param: s(f) },
            BodyIr::MultipartForm => BodyDescriptor::MultipartForm,
            BodyIr::GraphQl {
                query,
                variables,
                default_fields,
                operation_name,
                nullable_variables,
            } => BodyDescriptor::GraphQl(GraphQlBody {
                query: s(query),
                variables: os(variables),
                default_fields: os(default_fields),
                operation_name: os(operation_name),
                nullable_variables: strs(nullable_variables),
            }),
        },
        response: ResponseDescriptor {
            record_extractor: os(&o.record_extractor),
            meta_extractor: pairs(&o.meta_extractor),
            record_filter: os(&o.record_filter),
            record_transform: pairs(&o.record_transform),
            file_url: os(&o.file_url),
            no_content: o.no_content,
            data_schema: os(&crate::record_schema::data_schema(ir, o)),
        },
        pagination: match &o.pagination {
            PaginationIr::None => Pagination::None,
            PaginationIr::Cursor { meta, param } => Pagination::Cursor {
                meta: s(meta),
                param: s(param),
            },
            PaginationIr::LastRecord {
                field,
                param,
                has_more,
            } => Pagination::LastRecord {
                field: s(field),
                param: s(param),
                has_more: os(has_more),
            },
            PaginationIr::CursorInLink { meta, param } => Pagination::CursorInLink {
                meta: s(meta),
                param: s(param),
            },
            PaginationIr::PageNumber { param, next_meta } => Pagination::PageNumber {
                param: s(param),
                next_meta: os(next_meta),
            },
            PaginationIr::Offset { param } => Pagination::Offset { param: s(param) },
            PaginationIr::NextUrl { meta } => Pagination::NextUrl { meta: s(meta) },
            PaginationIr::Relay {
                cursor_meta,
                has_next_meta,
                param,
            } => Pagination::Relay {
                cursor_meta: s(cursor_meta),
                has_next_meta: s(has_next_meta),
                param: s(param),
            },
        },
        preferred_for_check: o.preferred_for_check,
    }
}
