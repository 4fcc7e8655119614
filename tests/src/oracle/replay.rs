//! Wiring to the generator and the runtime (placeholder until their APIs land).

use std::path::Path;

use super::compare::Mismatch;
use super::model::{Case, OracleFile};
use super::server::MockServer;

pub(crate) struct Connector;

impl Connector {
    pub(crate) fn load(spec: &Path) -> Result<Self, String> {
        Err(format!("{}: generator not wired yet", spec.display()))
    }

    pub(crate) async fn replay(
        &self,
        _file: &OracleFile,
        _case: &Case,
        _server: &MockServer,
    ) -> Vec<Mismatch> {
        Vec::new()
    }
}
