//! IR → Rust source files of a connector crate (`syn`/`quote` tokens, formatted by prettyplease).

mod docs;
pub mod tokens;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use airbyte_agent_runtime::ParamLocation;
use proc_macro2::{Ident, Span, TokenStream};
use quote::{format_ident, quote};

use crate::ir::types::{RustType, TypeDef, TypeKind};
use crate::ir::{
    AuthKindIr, AuthOption, Connector, Entity, OperationIr, OutputIr, ParamIr, ReplicationFieldIr,
    ReplicationIr, ReplicationType,
};

/// Version of this generator, stamped into generated crates.
pub const GENERATOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// One output file, relative to the crate directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GeneratedFile {
    /// Relative path (`src/lib.rs`).
    pub path: PathBuf,
    /// Full contents.
    pub contents: String,
}

/// Options for emitting one crate.
#[derive(Debug, Clone)]
pub struct EmitOptions {
    /// Cargo package name (`airbyte-agent-stripe`).
    pub package: String,
    /// Path of the runtime crate as written in the generated `Cargo.toml`.
    pub runtime_path: String,
    /// Runtime version requirement.
    pub runtime_version: String,
    /// `repository` metadata.
    pub repository: String,
    /// `license` metadata.
    pub license: String,
    /// Crate version; `None`: the spec version when it is semver, else `0.1.0` (see [`crate::api`]).
    pub crate_version: Option<String>,
    /// Path of the repository's `airbyte-agent-tests` crate: when set, the crate gets a
    /// `tests/oracle.rs` replaying the reference oracle through its typed API.
    pub oracle_tests: Option<String>,
}

impl EmitOptions {
    /// Defaults for a crate inside this repository's `connectors/` folder.
    pub fn in_repo(ir: &Connector) -> Self {
        EmitOptions {
            package: format!("airbyte-agent-{}", ir.name),
            runtime_path: "../../runtime".into(),
            runtime_version: "0.1.0".into(),
            repository: "https://github.com/airbyte-agent-rs/airbyte-agent-rs".into(),
            license: "Apache-2.0".into(),
            crate_version: None,
            oracle_tests: None,
        }
    }
}

/// An emission failure (a bug in the generator rather than in the spec).
#[derive(Debug, thiserror::Error)]
#[error("emitting `{file}`: {message}")]
pub struct EmitError {
    /// File being emitted.
    pub file: String,
    /// What failed.
    pub message: String,
}

fn ident(s: &str) -> Ident {
    Ident::new(s, Span::call_site())
}

/// Normalise spec prose for rustdoc: trim, unify line endings, never empty, and sanitise it
/// ([`sanitize_doc`]) so rustdoc sees no broken links, bare URLs or stray HTML.
fn doc_text(text: &str, fallback: &str) -> String {
    let t = text.replace("\r\n", "\n");
    let t = t.trim();
    if t.is_empty() {
        fallback.to_string()
    } else {
        sanitize_doc(t)
    }
}

/// Make spec prose safe for rustdoc. Outside code spans and fenced blocks: bare URLs become
/// autolinks `<https://…>`, `<`/`>` become entities, and `[`/`]` are escaped unless they form a
/// Markdown link `[text](url)`. Fenced blocks are marked `text` so rustdoc never parses them as Rust.
pub fn sanitize_doc(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut in_fence = false;
    for (i, line) in text.lines().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let trimmed = line.trim_start();
        if trimmed.starts_with("```") || trimmed.starts_with("~~~") {
            if !in_fence && trimmed.trim_start_matches(['`', '~']).trim().is_empty() {
                out.push_str(line);
                out.push_str("text");
            } else {
                out.push_str(line);
            }
            in_fence = !in_fence;
            continue;
        }
        if in_fence {
            out.push_str(line);
        } else {
            sanitize_line(line, &mut out);
        }
    }
    if in_fence {
        out.push_str("\n```");
    }
    out
}

fn sanitize_line(line: &str, out: &mut String) {
    let chars: Vec<char> = line.chars().collect();
    // Unbalanced backticks: treat them as text.
    let ticks = chars.iter().filter(|c| **c == '`').count();
    let mut in_code = false;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c == '`' {
            if ticks % 2 == 0 {
                in_code = !in_code;
                out.push(c);
            } else {
                out.push_str("\\`");
            }
            i += 1;
            continue;
        }
        if in_code {
            out.push(c);
            i += 1;
            continue;
        }
        // Markdown link `[text](url)`: keep as is.
        if c == '[' {
            if let Some(end) = link_end(&chars, i) {
                out.extend(&chars[i..end]);
                i = end;
                continue;
            }
            out.push_str("\\[");
            i += 1;
            continue;
        }
        if c == ']' {
            out.push_str("\\]");
            i += 1;
            continue;
        }
        let rest: String = chars[i..chars.len().min(i + 8)].iter().collect();
        if rest.starts_with("http://") || rest.starts_with("https://") {
            let mut end = i;
            while end < chars.len() && !chars[end].is_whitespace() && !"<>\"'`".contains(chars[end])
            {
                end += 1;
            }
            while end > i && ".,;:!?)".contains(chars[end - 1]) {
                end -= 1;
            }
            out.push('<');
            out.extend(&chars[i..end]);
            out.push('>');
            i = end;
            continue;
        }
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            _ => out.push(c),
        }
        i += 1;
    }
}

/// End (exclusive) of a Markdown link starting at `chars[start] == '['`.
fn link_end(chars: &[char], start: usize) -> Option<usize> {
    let close = (start + 1..chars.len()).find(|&j| chars[j] == ']' || chars[j] == '[')?;
    if chars[close] != ']' || close == start + 1 || chars.get(close + 1) != Some(&'(') {
        return None;
    }
    let paren = (close + 2..chars.len()).find(|&j| chars[j] == ')' || chars[j].is_whitespace())?;
    (chars[paren] == ')').then_some(paren + 1)
}

fn doc(text: &str, fallback: &str) -> TokenStream {
    let t = doc_text(text, fallback);
    let lines = t.lines().map(|l| format!(" {l}"));
    quote!(#(#[doc = #lines])*)
}

fn header(ir: &Connector) -> String {
    format!(
        "// Generated by airbyte-agent-codegen from {} spec version {} (sha256 {}). Do not edit.\n",
        ir.name, ir.version, ir.spec_sha256
    )
}

fn render(file: &str, ir: &Connector, tokens: TokenStream) -> Result<String, EmitError> {
    let parsed: syn::File = syn::parse2(tokens).map_err(|e| EmitError {
        file: file.into(),
        message: e.to_string(),
    })?;
    Ok(format!(
        "{}\n{}",
        header(ir),
        prettyplease::unparse(&parsed)
    ))
}

/// Render the crate root with `#[rustfmt::skip]` on every top-level item: the output is
/// prettyplease's, and an outer skip on `mod x;` keeps `cargo fmt --all` away from the whole module
/// tree, so formatting the workspace never makes a generated crate stale.
fn render_root(file: &str, ir: &Connector, tokens: TokenStream) -> Result<String, EmitError> {
    let mut parsed: syn::File = syn::parse2(tokens).map_err(|e| EmitError {
        file: file.into(),
        message: e.to_string(),
    })?;
    for item in &mut parsed.items {
        if let Some(attrs) = item_attrs(item) {
            attrs.insert(0, syn::parse_quote!(#[rustfmt::skip]));
        }
    }
    Ok(format!(
        "{}\n{}",
        header(ir),
        prettyplease::unparse(&parsed)
    ))
}

fn item_attrs(item: &mut syn::Item) -> Option<&mut Vec<syn::Attribute>> {
    use syn::Item;
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::ExternCrate(i) => &mut i.attrs,
        Item::Fn(i) => &mut i.attrs,
        Item::ForeignMod(i) => &mut i.attrs,
        Item::Impl(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        Item::Mod(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::Trait(i) => &mut i.attrs,
        Item::TraitAlias(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Union(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

/// Where each named type is emitted.
struct Placement<'a> {
    /// Entity module → its local types.
    local: BTreeMap<&'a str, Vec<&'a TypeDef>>,
    /// Shared types (several entities).
    shared: Vec<&'a TypeDef>,
}

fn placement(ir: &Connector) -> Placement<'_> {
    let mut local: BTreeMap<&str, Vec<&TypeDef>> = BTreeMap::new();
    let mut shared = Vec::new();
    for t in &ir.types.types {
        match t.users.len() {
            0 => {}
            1 => {
                if let Some(u) = t.users.iter().next() {
                    local.entry(u.as_str()).or_default().push(t);
                }
            }
            _ => shared.push(t),
        }
    }
    Placement { local, shared }
}

fn ty_tokens(ir: &Connector, t: &RustType) -> TokenStream {
    match t {
        RustType::String => quote!(String),
        RustType::I64 => quote!(i64),
        RustType::F64 => quote!(f64),
        RustType::Bool => quote!(bool),
        RustType::Value => quote!(Value),
        RustType::Object => quote!(Map<String, Value>),
        RustType::Map(inner) => {
            let i = ty_tokens(ir, inner);
            quote!(::std::collections::BTreeMap<String, #i>)
        }
        RustType::Vec(inner) => {
            let i = ty_tokens(ir, inner);
            quote!(Vec<#i>)
        }
        RustType::Named(id) => {
            let n = ident(&ir.types.types[*id].name);
            quote!(#n)
        }
        RustType::Boxed(id) => {
            let n = ident(&ir.types.types[*id].name);
            quote!(Box<#n>)
        }
    }
}

fn type_item(ir: &Connector, t: &TypeDef, cfg: &TokenStream) -> TokenStream {
    let name = ident(&t.name);
    match &t.kind {
        TypeKind::Enum(variants) => {
            let d = doc(&t.doc, &format!("Values of `{}`.", t.name));
            let vs = variants.iter().map(|(v, wire)| {
                let v = ident(v);
                let d = format!(" `{wire}`");
                quote!(#[doc = #d] #v => #wire)
            });
            quote! {
                #cfg
                airbyte_agent_runtime::string_enum! {
                    #d
                    pub enum #name { #(#vs),* }
                }
            }
        }
        TypeKind::Struct(fields) => {
            let d = doc(&t.doc, &format!("The `{}` object.", t.name));
            let fs = fields.iter().map(|f| {
                let fname = ident(&f.name);
                let fty = ty_tokens(ir, &f.ty);
                let fd = doc(&f.doc, &format!("`{}`", f.wire));
                let wire = &f.wire;
                let rename = if f.name != f.wire {
                    quote!(rename = #wire,)
                } else {
                    quote!()
                };
                quote! {
                    #fd
                    #[serde(#rename skip_serializing_if = "Option::is_none")]
                    pub #fname: Option<#fty>
                }
            });
            // Decoding goes through the runtime's `Record` walk: a key match and one
            // assignment per field.
            let keys = fields.iter().enumerate().map(|(i, f)| {
                let wire = &f.wire;
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                quote!(#wire => Some(#i))
            });
            let sets = fields.iter().enumerate().map(|(i, f)| {
                let fname = ident(&f.name);
                let i = proc_macro2::Literal::usize_unsuffixed(i);
                match &f.ty {
                    // Null items in a list of non-null items are dropped instead of failing
                    // the record.
                    RustType::Vec(inner) if !matches!(**inner, RustType::Value) => {
                        let it = ty_tokens(ir, inner);
                        quote!(#i => self.#fname = map.next_value::<record::SkipNulls<#it>>()?.0)
                    }
                    _ => quote!(#i => self.#fname = map.next_value()?),
                }
            });
            let type_name = &t.name;
            // `drop` in a match arm keeps it on one line (rustc's `dropping_copy_types` lint
            // accepts that form).
            let skip = quote!(drop(map.next_value::<serde::de::IgnoredAny>()?));
            let set_body = if fields.is_empty() {
                quote! {
                    let _ = index;
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            } else {
                quote! {
                    match index {
                        #(#sets,)*
                        _ => #skip,
                    }
                }
            };
            let key_match = if fields.is_empty() {
                quote!({
                    let _ = key;
                    None
                })
            } else {
                quote!(match key { #(#keys,)* _ => None })
            };
            quote! {
                #d
                #cfg
                #[derive(Debug, Clone, Default, serde::Serialize)]
                #[serde(crate = "airbyte_agent_runtime::serde")]
                pub struct #name { #(#fs),* }
                #cfg
                impl record::Record for #name {
                    const NAME: &'static str = #type_name;
                    fn field_index(key: &str) -> Option<usize> { #key_match }
                    fn set_field<'de, __M: serde::de::MapAccess<'de>>(
                        &mut self,
                        index: usize,
                        map: &mut __M,
                    ) -> Result<(), __M::Error> {
                        #set_body
                        Ok(())
                    }
                }
                #cfg
                impl<'de> serde::Deserialize<'de> for #name {
                    fn deserialize<__D: serde::Deserializer<'de>>(d: __D) -> Result<Self, __D::Error> {
                        record::deserialize(d)
                    }
                }
            }
        }
    }
}

fn cargo_toml(ir: &Connector, opts: &EmitOptions) -> String {
    // The README and AUTH.md examples are doctests: they need tokio and serde_json.
    let oracle = match &opts.oracle_tests {
        Some(path) => format!("airbyte-agent-tests = {{ path = {path:?} }}\n"),
        None => String::new(),
    };
    let dev_dependencies = format!(
        "[dev-dependencies]\n\
         {oracle}serde_json = \"1\"\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\"] }}\n\n"
    );
    let mut features = String::new();
    let all: Vec<String> = ir
        .entities
        .iter()
        .map(|e| format!("\"{}\"", e.feature))
        .collect();
    features.push_str(&format!("default = [{}]\n", all.join(", ")));
    for e in &ir.entities {
        features.push_str(&format!("{} = []\n", e.feature));
    }
    let version = crate_version(ir, opts);
    let description = format!(
        "Typed Rust connector for the {} API (Airbyte agent connector, generated).",
        ir.title
    );
    format!(
        "# Generated by airbyte-agent-codegen from {name} spec version {sv} (sha256 {sha}). Do not edit.\n\
         [package]\n\
         name = {pkg:?}\n\
         version = {version:?}\n\
         edition = \"2024\"\n\
         rust-version = \"1.88\"\n\
         description = {description:?}\n\
         license = {license:?}\n\
         repository = {repo:?}\n\
         documentation = \"https://docs.rs/{pkg_bare}\"\n\
         readme = \"README.md\"\n\
         keywords = [\"airbyte\", \"connector\", \"api\", \"agent\", {kw:?}]\n\
         categories = [\"api-bindings\", \"web-programming::http-client\"]\n\
         \n\
         [dependencies]\n\
         airbyte-agent-runtime = {{ path = {rt:?}, version = {rtv:?} }}\n\
         \n\
         {dev}\
         [features]\n\
         {features}",
        name = ir.name,
        sv = ir.version,
        sha = ir.spec_sha256,
        pkg = opts.package,
        pkg_bare = opts.package,
        dev = dev_dependencies,
        kw = keyword(&ir.name),
        license = opts.license,
        repo = opts.repository,
        rt = opts.runtime_path,
        rtv = opts.runtime_version,
    )
}

/// A crates.io keyword from the connector name (at most 20 ASCII alphanumerics, `-`, `_`).
fn keyword(name: &str) -> String {
    let k: String = name
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .take(20)
        .collect();
    if k.is_empty() {
        "connector-crate".into()
    } else {
        k.to_ascii_lowercase()
    }
}

/// The version written into the generated `Cargo.toml` and `api.json`.
pub fn crate_version(ir: &Connector, opts: &EmitOptions) -> String {
    match &opts.crate_version {
        Some(v) => v.clone(),
        None if is_semver(&ir.version) => ir.version.clone(),
        None => "0.1.0".to_string(),
    }
}

fn is_semver(v: &str) -> bool {
    let core = v.split(['-', '+']).next().unwrap_or("");
    let parts: Vec<&str> = core.split('.').collect();
    parts.len() == 3
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

fn auth_items(ir: &Connector) -> TokenStream {
    let mut items = Vec::new();
    for a in &ir.auth {
        items.push(auth_struct(a));
    }
    if ir.auth.len() > 1 {
        let name = ident(&ir.auth_type);
        let d = format!(
            " Credentials for the {} connector: one variant per auth option.",
            ir.name
        );
        let variants = ir.auth.iter().map(|a| {
            let v = ident(&a.variant);
            let t = ident(&a.type_name);
            let d = format!(" `{}` ({}).", a.key, a.title);
            quote!(#[doc = #d] #v(#t))
        });
        let froms = ir.auth.iter().map(|a| {
            let v = ident(&a.variant);
            let t = ident(&a.type_name);
            quote! {
                impl From<#t> for #name {
                    fn from(value: #t) -> Self { #name::#v(value) }
                }
            }
        });
        let arms = ir.auth.iter().map(|a| {
            let v = ident(&a.variant);
            quote!(#name::#v(c) => c.into_credentials())
        });
        // Every credential field is one 16-byte `SecretString` (optional or not): clippy's
        // `large_enum_variant` (200 bytes between the two largest variants) is computable.
        let mut sizes: Vec<usize> = ir.auth.iter().map(|a| a.fields.len() * 16).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        let large = match sizes.as_slice() {
            [first, second, ..] => first - second >= 160,
            _ => false,
        };
        let allow = large.then(|| quote!(#[allow(clippy::large_enum_variant)]));
        items.push(quote! {
            #[doc = #d]
            #[derive(Debug, Clone)]
            #[non_exhaustive]
            #allow
            pub enum #name { #(#variants),* }
            #(#froms)*
            impl #name {
                /// The runtime credentials (scheme key plus fields).
                pub fn into_credentials(self) -> Credentials {
                    match self { #(#arms),* }
                }
            }
            impl From<#name> for Credentials {
                fn from(value: #name) -> Self { value.into_credentials() }
            }
        });
    }
    let replication = ir.replication.as_ref().map(replication_struct);
    let map_import = ir.replication.as_ref().map(|_| {
        quote!(
            use airbyte_agent_runtime::serde_json::{Map, Value};
        )
    });
    quote! {
        //! Typed credentials (and the replication settings hosted creation takes). Secrets are
        //! `SecretString`s: `Debug` output is redacted.
        use airbyte_agent_runtime::{Credentials, SecretString};
        #map_import
        #(#items)*
        #replication
    }
}

/// `<Pascal>ReplicationConfig`: required settings are constructor arguments, optional ones setters.
fn replication_struct(r: &ReplicationIr) -> TokenStream {
    let name = ident(&r.type_name);
    let d = doc(
        &format!(
            "{}\n\n{}\n\nSent as `replication_config` when a hosted connector is created; the \
             connector's own calls never read it.",
            r.title, r.description
        ),
        "Replication settings.",
    );
    let field_ty = |f: &ReplicationFieldIr| match f.ty {
        ReplicationType::String => quote!(String),
        ReplicationType::Integer => quote!(i64),
        ReplicationType::Number => quote!(f64),
        ReplicationType::Boolean => quote!(bool),
        ReplicationType::StringList => quote!(Vec<String>),
        _ => quote!(Value),
    };
    let arg_ty = |f: &ReplicationFieldIr| match f.ty {
        ReplicationType::String => quote!(impl Into<String>),
        ReplicationType::Integer => quote!(i64),
        ReplicationType::Number => quote!(f64),
        ReplicationType::Boolean => quote!(bool),
        ReplicationType::StringList => quote!(impl IntoIterator<Item = impl Into<String>>),
        _ => quote!(impl Into<Value>),
    };
    let conv = |f: &ReplicationFieldIr, v: &Ident| match f.ty {
        ReplicationType::String | ReplicationType::Json => quote!(#v.into()),
        ReplicationType::StringList => quote!(#v.into_iter().map(Into::into).collect()),
        _ => quote!(#v),
    };
    let fields = r.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let mut text = format!("{}\n\n{}", f.title, f.description);
        if let Some(fmt) = &f.format {
            text.push_str(&format!("\n\nFormat: `{fmt}`."));
        }
        if !f.enum_values.is_empty() {
            text.push_str(&format!("\n\nOne of: `{}`.", f.enum_values.join("`, `")));
        }
        if let Some(def) = &f.default {
            text.push_str(&format!("\n\nAirbyte's default: `{def}`."));
        }
        let fd = doc(&text, &format!("`{}`", f.name));
        let t = field_ty(f);
        if f.required {
            quote!(#fd pub #n: #t)
        } else {
            quote!(#fd pub #n: Option<#t>)
        }
    });
    let req: Vec<_> = r.fields.iter().filter(|f| f.required).collect();
    let allow = many_args(req.len());
    let args = req.iter().map(|f| {
        let n = ident(&f.rust_name);
        let t = arg_ty(f);
        quote!(#n: #t)
    });
    let inits = r.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        if f.required {
            match f.ty {
                ReplicationType::String | ReplicationType::Json | ReplicationType::StringList => {
                    let c = conv(f, &n);
                    quote!(#n: #c)
                }
                _ => quote!(#n),
            }
        } else {
            quote!(#n: None)
        }
    });
    let setters = r.fields.iter().filter(|f| !f.required).map(|f| {
        let n = ident(&f.rust_name);
        let d = format!(" Set `{}`.", f.name);
        let t = arg_ty(f);
        let value = ident("value");
        let c = conv(f, &value);
        quote! {
            #[doc = #d]
            pub fn #n(mut self, value: #t) -> Self {
                self.#n = Some(#c);
                self
            }
        }
    });
    let inserts = r.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let wire = &f.name;
        let value = match f.ty {
            ReplicationType::Json => quote!(v),
            _ => quote!(Value::from(v)),
        };
        if f.required {
            quote! {
                let v = self.#n;
                map.insert(#wire.to_string(), #value);
            }
        } else {
            quote! {
                if let Some(v) = self.#n {
                    map.insert(#wire.to_string(), #value);
                }
            }
        }
    });
    quote! {
        #d
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub struct #name { #(#fields),* }
        impl #name {
            /// Settings from the required fields; optional ones have setters.
            #allow
            pub fn new(#(#args),*) -> Self {
                #name { #(#inits),* }
            }
            #(#setters)*
            /// The JSON object Airbyte's API takes as `replication_config` (unset fields omitted).
            pub fn into_map(self) -> Map<String, Value> {
                let mut map = Map::new();
                #(#inserts)*
                map
            }
        }
        impl From<#name> for Map<String, Value> {
            fn from(value: #name) -> Self { value.into_map() }
        }
    }
}

fn auth_struct(a: &AuthOption) -> TokenStream {
    let name = ident(&a.type_name);
    let d = doc(&format!("{}\n\n{}", a.title, a.description), "Credentials.");
    let key = &a.key;
    let fields = a.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let fd = doc(
            &format!("{}\n\n{}", f.title, f.description),
            &format!("`{}`", f.name),
        );
        if f.required {
            quote!(#fd pub #n: SecretString)
        } else {
            quote!(#fd pub #n: Option<SecretString>)
        }
    });
    let req: Vec<_> = a.fields.iter().filter(|f| f.required).collect();
    let allow = many_args(req.len());
    let args = req.iter().map(|f| {
        let n = ident(&f.rust_name);
        quote!(#n: impl Into<SecretString>)
    });
    let inits = a.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        if f.required {
            quote!(#n: #n.into())
        } else {
            quote!(#n: None)
        }
    });
    let setters = a.fields.iter().filter(|f| !f.required).map(|f| {
        let n = ident(&f.rust_name);
        let d = format!(" Set `{}`.", f.name);
        quote! {
            #[doc = #d]
            pub fn #n(mut self, value: impl Into<SecretString>) -> Self {
                self.#n = Some(value.into());
                self
            }
        }
    });
    let sets = a.fields.iter().map(|f| {
        let n = ident(&f.rust_name);
        let wire = &f.name;
        if f.required {
            quote!(.set(#wire, self.#n))
        } else {
            quote!(.set_opt(#wire, self.#n))
        }
    });
    quote! {
        #d
        #[derive(Debug, Clone)]
        pub struct #name { #(#fields),* }
        impl #name {
            /// Credentials from the required fields; optional ones have setters.
            #allow
            pub fn new(#(#args),*) -> Self {
                #name { #(#inits),* }
            }
            #(#setters)*
            /// The runtime credentials (scheme key plus fields).
            pub fn into_credentials(self) -> Credentials {
                Credentials::new(#key) #(#sets)*
            }
        }
        impl From<#name> for Credentials {
            fn from(value: #name) -> Self { value.into_credentials() }
        }
    }
}

/// Setter argument type and the expression turning `value` into a JSON value.
fn param_conv(ir: &Connector, p: &ParamIr, var: &Ident) -> (TokenStream, TokenStream) {
    match &p.ty {
        RustType::String => (
            quote!(impl Into<String>),
            quote!(Value::String(#var.into())),
        ),
        RustType::I64 => (quote!(i64), quote!(Value::from(#var))),
        RustType::F64 => (quote!(f64), quote!(Value::from(#var))),
        RustType::Bool => (quote!(bool), quote!(Value::Bool(#var))),
        RustType::Value => (quote!(Value), quote!(#var)),
        RustType::Object => (quote!(Map<String, Value>), quote!(Value::Object(#var))),
        RustType::Vec(inner)
            if matches!(
                **inner,
                RustType::String | RustType::I64 | RustType::F64 | RustType::Bool
            ) =>
        {
            let t = ty_tokens(ir, &p.ty);
            (t, quote!(Value::from(#var)))
        }
        other => {
            let t = ty_tokens(ir, other);
            (t, quote!(crate::to_value(#var)))
        }
    }
}

/// Every identifier in `tokens` (to import only the names a file uses).
fn idents(tokens: &TokenStream, out: &mut BTreeSet<String>) {
    for t in tokens.clone() {
        match t {
            proc_macro2::TokenTree::Ident(i) => {
                out.insert(i.to_string());
            }
            proc_macro2::TokenTree::Group(g) => idents(&g.stream(), out),
            _ => {}
        }
    }
}

/// `use` lines for the names of `candidates` (under `path`) that `body` mentions.
fn uses_of(body: &BTreeSet<String>, path: TokenStream, candidates: &[&str]) -> TokenStream {
    let used: Vec<Ident> = candidates
        .iter()
        .filter(|c| body.contains(**c))
        .map(|c| ident(c))
        .collect();
    match used.as_slice() {
        [] => quote!(),
        [one] => quote!(use #path::#one;),
        many => quote!(use #path::{#(#many),*};),
    }
}

/// Runtime names generated modules import when they mention them.
const RUNTIME_NAMES: &[&str] = &[
    "ByteStream",
    "Client",
    "Page",
    "PageStream",
    "Params",
    "Result",
    "record",
    "serde",
];

/// Imports of a module body: the runtime and JSON names it mentions, and `crate::types::*` when it
/// names a shared type.
fn imports(body: &TokenStream, shared: &BTreeSet<&str>) -> TokenStream {
    let mut names = BTreeSet::new();
    idents(body, &mut names);
    let json = uses_of(
        &names,
        quote!(airbyte_agent_runtime::serde_json),
        &["Map", "Value"],
    );
    let runtime = uses_of(&names, quote!(airbyte_agent_runtime), RUNTIME_NAMES);
    let types = shared.iter().any(|t| names.contains(*t)).then(|| {
        quote!(
            use crate::types::*;
        )
    });
    quote!(#json #runtime #types)
}

fn entity_file(
    ir: &Connector,
    e: &Entity,
    idx_ops: &str,
    local: &[&TypeDef],
    shared: &BTreeSet<&str>,
) -> TokenStream {
    let handle = ident(&e.type_name);
    let stat = format_ident!("{}", idx_ops);
    let conn = format_ident!("{}Connector", ir.pascal);
    let mut methods = Vec::new();
    let mut requests = Vec::new();
    for (i, o) in e.operations.iter().enumerate() {
        let (m, r) = operation_items(ir, o, &stat, i);
        methods.push(m);
        requests.push(r);
    }
    let hd = doc(&e.description, &format!("Entity `{}`.", e.name));
    let mdoc = format!(
        " Entity `{}`: handle, request builders and record types.",
        e.name
    );
    let m = ident(&e.rust_name);
    let types = local.iter().map(|t| type_item(ir, t, &quote!()));
    let body = quote! {
        impl crate::#conn {
            #hd
            pub fn #m(&self) -> #handle {
                #handle { client: self.client.clone() }
            }
        }

        #hd
        #[derive(Debug, Clone)]
        pub struct #handle { client: Client }

        impl #handle {
            #(#methods)*
        }

        #(#requests)*
        #(#types)*
    };
    let imports = imports(&body, shared);
    quote! {
        #![doc = #mdoc]
        #imports
        #body
    }
}

fn operation_items(
    ir: &Connector,
    o: &OperationIr,
    stat: &Ident,
    index: usize,
) -> (TokenStream, TokenStream) {
    let req = ident(&o.request_type);
    let mname = ident(&o.rust_name);
    let mut doc_src = o.summary.clone();
    if !o.description.is_empty() && o.description.trim() != o.summary.trim() {
        doc_src = format!("{doc_src}\n\n{}", o.description);
    }
    let mut md = doc(&doc_src, &format!("`{}.{}`", o.entity, o.action));
    let how = format!(
        " `{} {}` (`{}.{}`).",
        o.method.as_str(),
        o.path,
        o.entity,
        o.action
    );
    md = quote!(#md #[doc = ""] #[doc = #how]);
    let var = format_ident!("value");
    let args: Vec<&ParamIr> = o.params.iter().filter(|p| p.is_arg).collect();
    let arg_decls = args.iter().map(|p| {
        let n = ident(&p.rust_name);
        let (t, _) = param_conv(ir, p, &n);
        quote!(#n: #t)
    });
    let arg_inserts = args.iter().map(|p| {
        let n = ident(&p.rust_name);
        let (_, conv) = param_conv(ir, p, &n);
        let wire = &p.name;
        quote!(params.insert(#wire.to_owned(), #conv);)
    });
    let method = if args.is_empty() {
        quote! {
            #md
            pub fn #mname(&self) -> #req {
                #req { client: self.client.clone(), params: Params::new() }
            }
        }
    } else {
        let allow = many_args(1 + args.len());
        quote! {
            #md
            #allow
            pub fn #mname(&self, #(#arg_decls),*) -> #req {
                let mut params = Params::new();
                #(#arg_inserts)*
                #req { client: self.client.clone(), params }
            }
        }
    };
    let setters = o.params.iter().filter(|p| !p.is_arg).map(|p| {
        if p.name == "*" {
            return quote! {
                /// Any body field (the body schema is open): `name` is the wire name.
                pub fn body_field(mut self, name: impl Into<String>, #var: impl Into<Value>) -> Self {
                    self.params.insert(name.into(), #var.into());
                    self
                }
            };
        }
        let n = ident(&p.rust_name);
        let (t, conv) = param_conv(ir, p, &var);
        let wire = &p.name;
        let loc = match p.location {
            ParamLocation::Path => "path",
            ParamLocation::Query => "query",
            ParamLocation::Header => "header",
            _ => "body",
        };
        let d = doc(&p.description, &format!("`{wire}`"));
        let w = format!(" Wire name `{wire}` ({loc}).");
        quote! {
            #d
            #[doc = ""]
            #[doc = #w]
            pub fn #n(mut self, #var: #t) -> Self {
                self.params.insert(#wire.to_owned(), #conv);
                self
            }
        }
    });
    let index = proc_macro2::Literal::usize_unsuffixed(index);
    let op = quote!(&crate::descriptor::#stat[#index]);
    let (output, send_body, pages) = match &o.output {
        OutputIr::Bytes => (
            quote!(ByteStream),
            quote!(self.client.download(#op, self.params).await),
            quote!(),
        ),
        OutputIr::Record(t) => {
            let t = ty_tokens(ir, t);
            (
                quote!(#t),
                // The record type comes from `send`'s return type.
                quote!(self.client.call_record(#op, self.params).await),
                quote!(),
            )
        }
        OutputIr::Page(t, m) => {
            let t = ty_tokens(ir, t);
            let m = ident(&ir.types.types[*m].name);
            (
                quote!(Page<#t, #m>),
                quote!(self.client.call_list(#op, self.params).await),
                quote! {
                    /// Every page, lazily, following the operation's pagination.
                    pub fn pages(self) -> PageStream<#t, #m> {
                        self.client.pages(#op, self.params)
                    }
                },
            )
        }
    };
    let rd = format!(
        " Request builder for `{}.{}`; send it with `.send().await` or `.await`.",
        o.entity, o.action
    );
    let request = quote! {
        #[doc = #rd]
        #[derive(Debug, Clone)]
        #[must_use = "a request does nothing until it is sent"]
        pub struct #req { client: Client, params: Params }

        impl #req {
            #(#setters)*
            /// Send the request.
            pub async fn send(self) -> Result<#output> {
                #send_body
            }
            #pages
            /// The parameters collected so far (wire names).
            pub fn params(&self) -> &Params { &self.params }
        }

        impl ::std::future::IntoFuture for #req {
            type Output = Result<#output>;
            type IntoFuture = ::std::pin::Pin<Box<dyn ::std::future::Future<Output = Result<#output>> + Send>>;
            fn into_future(self) -> Self::IntoFuture { Box::pin(self.send()) }
        }
    };
    (method, request)
}

fn lib_file(ir: &Connector, lints: &LibLints) -> TokenStream {
    let conn = format_ident!("{}Connector", ir.pascal);
    let builder = format_ident!("{}ConnectorBuilder", ir.pascal);
    let auth = ident(&ir.auth_type);
    let (repl_arg, repl_set, repl_doc) = match &ir.replication {
        Some(r) => {
            let t = ident(&r.type_name);
            (
                quote!(replication: #t,),
                quote!(let options = options.replication_config(replication.into_map());),
                {
                    let d = format!(
                        " `replication` holds the settings Airbyte needs to replicate this source ([`{}`]).",
                        r.type_name
                    );
                    quote!(#[doc = #d])
                },
            )
        }
        None => (quote!(), quote!(), quote!()),
    };
    let create_hosted = quote! {
        /// Create a hosted connector in `workspace` that keeps these credentials in Airbyte,
        /// and return a connector whose calls run through Airbyte's API.
        #repl_doc
        /// `options` sets the name and source template.
        pub async fn create_hosted(
            workspace: &airbyte_agent_runtime::hosted::Workspace,
            auth: impl Into<#auth>,
            #repl_arg
            options: airbyte_agent_runtime::hosted::CreateOptions,
        ) -> Result<Self> {
            #repl_set
            let credentials = auth.into().into_credentials();
            Self::from_client(
                workspace.create_hosted(&descriptor::CONNECTOR, &credentials, options).await?,
            )
        }
    };
    let crate_doc = {
        let t = format!(
            "Typed client for the {} API (Airbyte agent connector `{}`, spec version {}).\n\n\
             Generated by airbyte-agent-codegen; every behaviour lives in `airbyte-agent-runtime`.",
            ir.title, ir.name, ir.version
        );
        let lines = t.lines().map(|l| format!(" {l}")).collect::<Vec<_>>();
        quote!(#(#![doc = #lines])*)
    };
    let req_vars: Vec<_> = ir.server_variables.iter().filter(|v| v.required).collect();
    let var_args: Vec<TokenStream> = req_vars
        .iter()
        .map(|v| {
            let n = ident(&v.rust_name);
            quote!(#n: impl Into<String>)
        })
        .collect();
    let var_names: Vec<Ident> = req_vars.iter().map(|v| ident(&v.rust_name)).collect();
    let var_sets = req_vars.iter().map(|v| {
        let n = ident(&v.rust_name);
        let wire = &v.name;
        quote!(.server_variable(#wire, #n.into()))
    });
    let var_setters = ir.server_variables.iter().filter(|v| !v.required).map(|v| {
        let n = ident(&v.rust_name);
        let wire = &v.name;
        let d = doc(
            &format!(
                "{}\n\nServer variable `{}` (default `{}`).",
                v.description,
                v.name,
                v.default.clone().unwrap_or_default()
            ),
            "",
        );
        quote! {
            #d
            pub fn #n(mut self, value: impl Into<String>) -> Self {
                self.inner = self.inner.server_variable(#wire, value.into());
                self
            }
        }
    });
    let arg_docs: Vec<String> = req_vars
        .iter()
        .map(|v| {
            format!(
                " - `{}`: {} (server variable `{}`)",
                v.rust_name,
                doc_text(&v.description, "required"),
                v.name
            )
        })
        .collect();
    let reexports = ir.entities.iter().map(|e| {
        let feature = &e.feature;
        let module = ident(&e.rust_name);
        quote!(#[cfg(feature = #feature)] pub use entities::#module::*;)
    });
    let has_refresh = ir
        .auth
        .iter()
        .any(|a| matches!(&a.kind, AuthKindIr::OAuth2 { .. }));
    let refresh = if has_refresh {
        quote! {
            /// Override the OAuth2 token refresh URL (tests, proxies).
            pub fn refresh_url(mut self, url: impl Into<String>) -> Self {
                self.inner = self.inner.refresh_url(url);
                self
            }
        }
    } else {
        quote!()
    };
    let cname = &ir.name;
    let version = &ir.version;
    let sha = &ir.spec_sha256;
    let def_id = &ir.definition_id;
    let gen_version = GENERATOR_VERSION;
    let conn_doc = format!(
        " The {} connector: one method per entity, plus `execute` for dynamic calls.",
        ir.title
    );
    let doc_lists = lints.doc_lists.then(|| {
        quote! {
            #![allow(clippy::doc_lazy_continuation)]
            #![allow(clippy::doc_overindented_list_items)]
        }
    });
    let types = lints.types.map(|partial| {
        let allow = partial.then(|| quote!(#[allow(unused_imports)]));
        quote!(#allow pub use types::*;)
    });
    let to_value = lints.to_value.map(|partial| {
        let allow = partial.then(|| quote!(#[allow(dead_code)]));
        quote! {
            /// JSON value of a typed parameter (serialisation of generated types cannot fail).
            #allow
            pub(crate) fn to_value<T: airbyte_agent_runtime::serde::Serialize>(value: T) -> Value {
                airbyte_agent_runtime::serde_json::to_value(value).unwrap_or(Value::Null)
            }
        }
    });
    let new_allow = many_args(1 + req_vars.len());
    quote! {
        #crate_doc
        #doc_lists
        #![warn(missing_docs)]

        pub mod auth;
        pub mod descriptor;
        pub mod entities;
        pub mod types;

        pub use auth::*;
        #types
        #(#reexports)*
        pub use airbyte_agent_runtime::{ByteStream, Error, ExecuteResult, Page, PageStream, Result, RetryPolicy, SecretString};
        pub use airbyte_agent_runtime::hosted::AirbyteAuthConfig;
        /// Hosted mode: Airbyte's platform API (workspaces, connector creation, OAuth, templates).
        pub use airbyte_agent_runtime::hosted;

        /// The README's examples, compiled as doctests.
        #[cfg(doctest)]
        #[doc = include_str!("../README.md")]
        pub struct ReadmeDoctests;

        /// AUTH.md's examples, compiled as doctests.
        #[cfg(doctest)]
        #[doc = include_str!("../AUTH.md")]
        pub struct AuthDoctests;

        use airbyte_agent_runtime::serde_json::Value;

        /// Provenance of this crate.
        pub mod meta {
            /// Connector slug.
            pub const CONNECTOR_NAME: &str = #cname;
            /// Spec `info.version`.
            pub const SPEC_VERSION: &str = #version;
            /// sha256 of the spec file this crate was generated from.
            pub const SPEC_SHA256: &str = #sha;
            /// Airbyte connector definition id.
            pub const DEFINITION_ID: &str = #def_id;
            /// Version of airbyte-agent-codegen that generated this crate.
            pub const GENERATOR_VERSION: &str = #gen_version;
        }

        #to_value

        #[doc = #conn_doc]
        #[derive(Debug, Clone)]
        pub struct #conn { client: airbyte_agent_runtime::Client }

        impl #conn {
            /// Connect with credentials and default settings.
            #(#[doc = #arg_docs])*
            #new_allow
            pub fn new(auth: impl Into<#auth>, #(#var_args),*) -> Result<Self> {
                Self::builder(auth, #(#var_names),*).build()
            }

            /// A builder for base URL, timeouts, retries and server variables.
            #new_allow
            pub fn builder(auth: impl Into<#auth>, #(#var_args),*) -> #builder {
                let credentials = auth.into().into_credentials();
                #builder {
                    inner: airbyte_agent_runtime::Client::builder(&descriptor::CONNECTOR, credentials) #(#var_sets)*,
                }
            }

            /// Hosted mode: every call runs through Airbyte's API with the credentials stored in
            /// Airbyte Cloud (connector looked up by workspace and definition id unless
            /// `config` names one). Missing Airbyte credentials fail here, before any request.
            pub fn hosted(config: airbyte_agent_runtime::hosted::AirbyteAuthConfig) -> Result<Self> {
                Self::from_client(airbyte_agent_runtime::Client::hosted(&descriptor::CONNECTOR, config).build()?)
            }

            #create_hosted

            /// Wrap a runtime client built for this connector, e.g. a hosted-mode one from
            /// `airbyte_agent_runtime::hosted::Workspace::create_hosted`. Fails when the client
            /// was built for another connector.
            pub fn from_client(client: airbyte_agent_runtime::Client) -> Result<Self> {
                let d = client.descriptor();
                if d.name != descriptor::CONNECTOR.name || d.definition_id != descriptor::CONNECTOR.definition_id {
                    return Err(airbyte_agent_runtime::Error::Config(format!(
                        "the client was built for connector `{}`, not `{}`",
                        d.name, descriptor::CONNECTOR.name
                    )));
                }
                Ok(Self { client })
            }

            /// The underlying runtime client.
            pub fn client(&self) -> &airbyte_agent_runtime::Client { &self.client }

            /// Health check: runs the spec's check operation (or the first list without required
            /// inputs) with `limit=1`, in direct or hosted mode. Never fails; the report says why.
            pub async fn check(&self) -> airbyte_agent_runtime::CheckReport { self.client.check().await }

            /// The connector's static description (all enabled entities and operations).
            pub fn descriptor() -> &'static airbyte_agent_runtime::ConnectorDescriptor { &descriptor::CONNECTOR }

            /// Every enabled `(entity, action)` pair, for tools.
            pub fn operations() -> impl Iterator<Item = (&'static str, &'static str)> {
                descriptor::CONNECTOR.entities.iter().flat_map(|e| e.operations.iter().map(|o| (o.entity, o.action)))
            }

            /// Run any operation by name with JSON params (validated by the runtime).
            pub async fn execute(&self, entity: &str, action: &str, params: Value) -> Result<ExecuteResult> {
                self.client.execute(entity, action, params).await
            }

        }

        /// Builder of the connector.
        #[derive(Debug)]
        #[must_use]
        pub struct #builder { inner: airbyte_agent_runtime::ClientBuilder }

        impl #builder {
            /// Override the base URL (tests, proxies).
            pub fn base_url(mut self, url: impl Into<String>) -> Self {
                self.inner = self.inner.base_url(url);
                self
            }
            /// Whole-request timeout.
            pub fn timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.inner = self.inner.timeout(timeout);
                self
            }
            /// Connect timeout.
            pub fn connect_timeout(mut self, timeout: ::std::time::Duration) -> Self {
                self.inner = self.inner.connect_timeout(timeout);
                self
            }
            /// Retry policy.
            pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
                self.inner = self.inner.retry_policy(policy);
                self
            }
            /// Callback receiving refreshed OAuth tokens (for persistence).
            pub fn on_token_refresh(mut self, f: impl Fn(&airbyte_agent_runtime::RefreshedTokens) + Send + Sync + 'static) -> Self {
                self.inner = self.inner.on_token_refresh(f);
                self
            }
            #refresh
            /// Page cap of `pages()` streams.
            pub fn max_pages(mut self, n: usize) -> Self {
                self.inner = self.inner.max_pages(n);
                self
            }
            #(#var_setters)*
            /// Build the connector.
            pub fn build(self) -> Result<#conn> {
                Ok(#conn { client: self.inner.build()? })
            }
        }
    }
}

/// `tests/oracle.rs`: every oracle case of the connector through the typed API. The file holds
/// only the calls (one match arm per operation); the test kit (`airbyte_agent_tests::oracle::typed`)
/// reads the params, checks that each was used and compares the result.
fn oracle_test(ir: &Connector, krate: &str) -> TokenStream {
    let krate = ident(krate);
    let conn = format_ident!("{}Connector", ir.pascal);
    let name = &ir.name;
    let mut arms = Vec::new();
    let mut uses_args = false;
    // The kit's result wrappers this crate uses (`record`, `page`).
    let mut wraps: Vec<Ident> = Vec::new();
    for e in &ir.entities {
        let handle = ident(&e.rust_name);
        for o in &e.operations {
            let (ent, act) = (&o.entity, &o.action);
            let method = ident(&o.rust_name);
            let wrap = match &o.output {
                OutputIr::Bytes => continue,
                OutputIr::Record(_) => ident("record"),
                OutputIr::Page(..) => ident("page"),
            };
            if !wraps.contains(&wrap) {
                wraps.push(wrap.clone());
            }
            // String setters take `impl Into<String>`: name the type; others are inferred.
            let ty_of = |p: &ParamIr| match &p.ty {
                RustType::String => quote!(::<String>),
                _ => quote!(),
            };
            let typed_v = |p: &ParamIr| match &p.ty {
                RustType::String => quote!(v: String),
                _ => quote!(v),
            };
            // The reference also accepts the snake_case form of a wire name (`company_id`).
            let names = |p: &ParamIr| {
                let wire = p.name.as_str();
                let snake = heck::ToSnakeCase::to_snake_case(wire);
                if snake == wire {
                    quote!(&[#wire])
                } else {
                    quote!(&[#wire, #snake])
                }
            };
            let args: Vec<TokenStream> = o
                .params
                .iter()
                .filter(|p| p.is_arg)
                .map(|p| {
                    let (t, n) = (ty_of(p), names(p));
                    quote!(a.arg #t (#n)?)
                })
                .collect();
            let setters: Vec<TokenStream> = o
                .params
                .iter()
                .filter(|p| !p.is_arg && p.name != "*")
                .map(|p| {
                    let (v, n) = (typed_v(p), names(p));
                    let setter = ident(&p.rust_name);
                    quote!(r = a.set(r, #n, |r, #v| r.#setter(v))?;)
                })
                .collect();
            let rest = o.params.iter().any(|p| p.name == "*").then(|| {
                quote! {
                    for (k, v) in a.rest() { r = r.body_field(k, v); }
                }
            });
            uses_args |= !args.is_empty() || !setters.is_empty() || rest.is_some();
            let feature = &e.feature;
            let call = quote!(c.#handle().#method(#(#args),*));
            let body = if setters.is_empty() && rest.is_none() {
                quote!(#wrap(#call))
            } else {
                quote!({
                    let mut r = #call;
                    #(#setters)*
                    #rest
                    #wrap(r)
                })
            };
            arms.push(quote! {
                #[cfg(feature = #feature)]
                (#ent, #act) => #body,
            });
        }
    }
    let a = if uses_args { quote!(a) } else { quote!(_a) };
    quote! {
        //! The typed API against the reference oracle (`../shared/reference/oracle/<name>.json`):
        //! every successful case is built with the generated builders from its params, sent to a
        //! loopback server serving the recorded response, and its request and typed result are
        //! compared with the recording.
        use airbyte_agent_tests::oracle::typed::{Args, Outcome, assert_matches_oracle, #(#wraps),*};
        use #krate::*;

        /// One case through the typed API; `Ok(None)` for operations it has no typed call for.
        fn call(c: &#conn, operation: (&str, &str), #a: &mut Args<'_>) -> Outcome {
            let future = match operation {
                #(#arms)*
                _ => return Ok(None),
            };
            Ok(Some(future))
        }

        #[tokio::test]
        async fn typed_api_matches_oracle() {
            assert_matches_oracle(#name, #conn::descriptor(), #conn::from_client, call).await;
        }
    }
}

/// `src/types.rs`: the types several entities share, one private module per set of entities
/// using them, gated once by those entities' features and re-exported.
fn shared_types(ir: &Connector, types: &[&TypeDef], shared: &BTreeSet<&str>) -> TokenStream {
    let mut groups: BTreeMap<&BTreeSet<String>, Vec<&TypeDef>> = BTreeMap::new();
    for t in types {
        groups.entry(&t.users).or_default().push(t);
    }
    let all: BTreeSet<String> = ir.entities.iter().map(|e| e.name.clone()).collect();
    let mut ungated = TokenStream::new();
    let mut items = Vec::new();
    for (n, (users, types)) in groups.into_iter().enumerate() {
        let body: TokenStream = types.iter().map(|t| type_item(ir, t, &quote!())).collect();
        // Every entity uses them: no gate.
        if *users == all {
            ungated.extend(body);
            continue;
        }
        let module = format_ident!("used_by_{}", n + 1);
        let features: Vec<&String> = ir
            .entities
            .iter()
            .filter(|e| users.contains(&e.name))
            .map(|e| &e.feature)
            .collect();
        let cfg = quote!(#[cfg(any(#(feature = #features),*))]);
        let names: Vec<String> = users.iter().map(|u| format!("`{u}`")).collect();
        let d = format!(" Types used by {}.", names.join(", "));
        let mut mentioned = BTreeSet::new();
        idents(&body, &mut mentioned);
        let json = uses_of(
            &mentioned,
            quote!(airbyte_agent_runtime::serde_json),
            &["Map", "Value"],
        );
        let runtime = uses_of(&mentioned, quote!(airbyte_agent_runtime), RUNTIME_NAMES);
        let others = types
            .iter()
            .map(|t| t.name.as_str())
            .collect::<BTreeSet<_>>();
        let parent = shared
            .iter()
            .any(|t| mentioned.contains(*t) && !others.contains(t))
            .then(|| {
                quote!(
                    use super::*;
                )
            });
        items.push(quote! {
            #cfg
            pub use #module::*;
            #[doc = #d]
            #cfg
            mod #module {
                #parent
                #json
                #runtime
                #body
            }
        });
    }
    let mut mentioned = BTreeSet::new();
    idents(&ungated, &mut mentioned);
    let json = uses_of(
        &mentioned,
        quote!(airbyte_agent_runtime::serde_json),
        &["Map", "Value"],
    );
    let runtime = uses_of(&mentioned, quote!(airbyte_agent_runtime), RUNTIME_NAMES);
    quote! {
        //! Record types shared by several entities.
        #json
        #runtime
        #ungated
        #(#items)*
    }
}

/// What the crate root needs beyond the fixed items, found while emitting the other files.
struct LibLints {
    /// Some doc text holds a Markdown list (clippy's list-indentation lints then allowed).
    doc_lists: bool,
    /// `to_value` is used: `Some(true)` when an entity feature can leave it unused.
    to_value: Option<bool>,
    /// `types` has items: `Some(true)` when a feature selection can leave it empty.
    types: Option<bool>,
}

/// Whether a generated Rust file has a doc comment line that starts a Markdown list item.
fn has_doc_list(text: &str) -> bool {
    text.lines().any(|line| {
        let l = line.trim_start();
        let Some(d) = l.strip_prefix("///").or_else(|| l.strip_prefix("//!")) else {
            return false;
        };
        let d = d.trim_start();
        let digits = d.chars().take_while(char::is_ascii_digit).count();
        d.starts_with("- ")
            || d.starts_with("* ")
            || d.starts_with("+ ")
            || (digits > 0 && (d[digits..].starts_with(". ") || d[digits..].starts_with(") ")))
    })
}

/// `#[allow(clippy::too_many_arguments)]` for a function taking `n` arguments (with `self`)
/// when clippy's limit (7) is exceeded.
fn many_args(n: usize) -> TokenStream {
    if n > 7 {
        quote!(#[allow(clippy::too_many_arguments)])
    } else {
        quote!()
    }
}

/// Emit every file of the connector crate.
pub fn emit_crate(ir: &Connector, opts: &EmitOptions) -> Result<Vec<GeneratedFile>, EmitError> {
    let desc = crate::descriptor(ir);
    let mut files = Vec::new();
    let mut push = |path: &str, contents: String| {
        files.push(GeneratedFile {
            path: PathBuf::from(path),
            contents,
        })
    };
    push("Cargo.toml", cargo_toml(ir, opts));
    let api = crate::api::summary(ir, &crate_version(ir, opts));
    push(
        "api.json",
        format!(
            "{}\n",
            serde_json::to_string_pretty(&api).map_err(|e| EmitError {
                file: "api.json".into(),
                message: e.to_string(),
            })?
        ),
    );
    for (path, text) in docs::docs(ir, opts, desc) {
        push(path, text);
    }
    push("src/auth.rs", render("src/auth.rs", ir, auth_items(ir))?);
    let d = tokens::descriptor_items(desc, ir);
    push("src/descriptor.rs", render("src/descriptor.rs", ir, d)?);
    if opts.oracle_tests.is_some() {
        let pkg = opts.package.replace('-', "_");
        push(
            "tests/oracle.rs",
            render_root("tests/oracle.rs", ir, oracle_test(ir, &pkg))?,
        );
    }
    let place = placement(ir);
    let shared: BTreeSet<&str> = place.shared.iter().map(|t| t.name.as_str()).collect();
    push(
        "src/types.rs",
        render("src/types.rs", ir, shared_types(ir, &place.shared, &shared))?,
    );
    let mods = ir.entities.iter().map(|e| {
        let feature = &e.feature;
        let m = ident(&e.rust_name);
        quote!(#[cfg(feature = #feature)] pub mod #m;)
    });
    push(
        "src/entities/mod.rs",
        render(
            "src/entities/mod.rs",
            ir,
            quote! {
                //! One module per entity (each behind its Cargo feature).
                #(#mods)*
            },
        )?,
    );
    // Entities whose setters convert through `crate::to_value`.
    let mut converting = 0;
    for e in &ir.entities {
        let local = place
            .local
            .get(e.name.as_str())
            .cloned()
            .unwrap_or_default();
        let path = format!("src/entities/{}.rs", e.rust_name);
        let tokens = entity_file(ir, e, &e.static_name, &local, &shared);
        let mut names = BTreeSet::new();
        idents(&tokens, &mut names);
        converting += usize::from(names.contains("to_value"));
        push(&path.clone(), render(&path, ir, tokens)?);
    }
    let lints = LibLints {
        doc_lists: files.iter().any(|f| has_doc_list(&f.contents)),
        to_value: (converting > 0).then_some(converting < ir.entities.len()),
        types: (!shared.is_empty()).then(|| {
            place
                .shared
                .iter()
                .any(|t| t.users.len() < ir.entities.len())
        }),
    };
    files.push(GeneratedFile {
        path: PathBuf::from("src/lib.rs"),
        contents: render_root("src/lib.rs", ir, lib_file(ir, &lints))?,
    });
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::sanitize_doc;

    #[test]
    fn sanitiser_escapes_rustdoc_hazards() {
        assert_eq!(
            sanitize_doc("see https://x.io/a. ok"),
            "see <https://x.io/a>. ok"
        );
        assert_eq!(sanitize_doc("a [b](https://c) d"), "a [b](https://c) d");
        assert_eq!(sanitize_doc("ids [1, 2]"), "ids \\[1, 2\\]");
        assert_eq!(sanitize_doc("Vec<T> `Vec<T>`"), "Vec&lt;T&gt; `Vec<T>`");
        assert_eq!(sanitize_doc("```\n[x] <y>\n```"), "```text\n[x] <y>\n```");
        assert_eq!(sanitize_doc("odd ` tick"), "odd \\` tick");
    }
}
