//! Typed results: one decoded page of records, and the decoding of a JSON value into a typed
//! record with the path of the failure.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::descriptor::OperationDescriptor;
use crate::error::{Error, Result};
use crate::response::ExecuteResult;

/// One decoded page: records plus typed meta.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T, M> {
    /// Records of the page.
    pub data: Vec<T>,
    /// Meta values (cursors, totals) of the page.
    pub meta: M,
}

impl<T: DeserializeOwned, M: DeserializeOwned> Page<T, M> {
    /// Decode an execute result (records in `data`, meta values in `meta`).
    pub fn decode(op: &OperationDescriptor, r: ExecuteResult) -> Result<Self> {
        let items = match r.data {
            Value::Array(a) => a,
            Value::Null => Vec::new(),
            other => vec![other],
        };
        let mut data = Vec::with_capacity(items.len());
        for (i, item) in items.into_iter().enumerate() {
            data.push(decode(op, &format!("data[{i}]"), item)?);
        }
        Self::from_parts(op, data, r.meta)
    }

    /// A page from decoded records and the raw meta values (typed meta decoded here).
    pub fn from_parts(
        op: &OperationDescriptor,
        data: Vec<T>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self> {
        let meta_value = Value::Object(meta.unwrap_or_default());
        let meta = match decode::<M>(op, "meta", meta_value) {
            Ok(m) => m,
            Err(e) => match serde_json::from_value::<M>(Value::Null) {
                Ok(m) => m,
                Err(_) => return Err(e),
            },
        };
        Ok(Page { data, meta })
    }
}

/// Decode JSON into `T`; a failure names the operation and the path of the offending value
/// below `prefix` (`data[1].created`).
pub fn decode<T: DeserializeOwned>(op: &OperationDescriptor, prefix: &str, v: Value) -> Result<T> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let inner = e.path().to_string();
        Error::Decode {
            entity: op.entity.to_string(),
            action: op.action.to_string(),
            path: if inner == "." {
                prefix.to_string()
            } else {
                format!("{prefix}.{inner}")
            },
            message: e.into_inner().to_string(),
        }
    })
}
