//! Typed results: one decoded page of records, and the decoding of a JSON value into a typed
//! record with the path of the failure.

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::descriptor::OperationDescriptor;
use crate::error::Result;
use crate::record::SkipNulls;
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
    /// Decode an execute result (records in `data`, meta values in `meta`). A `null` in the list
    /// of records is no record and is dropped (GraphQL connections may hold `null` nodes), as
    /// the direct page decoder does.
    pub fn decode(op: &OperationDescriptor, r: ExecuteResult) -> Result<Self> {
        let data = match &r.data {
            Value::Array(_) => decode_value::<SkipNulls<T>>(op, "data", &r.data)?
                .0
                .unwrap_or_default(),
            Value::Null => Vec::new(),
            one => vec![decode_value(op, "data[0]", one)?],
        };
        Self::from_parts(op, data, r.meta)
    }

    /// A page from decoded records and the raw meta values (typed meta decoded here).
    pub fn from_parts(
        op: &OperationDescriptor,
        data: Vec<T>,
        meta: Option<Map<String, Value>>,
    ) -> Result<Self> {
        let meta_value = Value::Object(meta.unwrap_or_default());
        let meta = match decode_value::<M>(op, "meta", &meta_value) {
            Ok(m) => m,
            Err(e) => match serde_json::from_str::<M>("null") {
                Ok(m) => m,
                Err(_) => return Err(e),
            },
        };
        Ok(Page { data, meta })
    }
}

pub use crate::decode::decode_value;
