//! Repository tasks: `cargo xtask generate | conformance | oracle`.

mod catalogue;
mod conformance;
mod generate;
mod layers;

use std::process::ExitCode;

const USAGE: &str = "usage:
  cargo xtask generate [--check]               specs/*/connector.yaml -> connectors/
  cargo xtask generate --specs DIR --out DIR   standalone workspace in DIR
  cargo xtask conformance DIR...               generate + cargo check every spec of the folders
  cargo xtask package-check                    crates.io metadata + `cargo package` dry run
  cargo xtask feature-check [CRATE FEATURE]    check one connector with a single entity feature
  cargo xtask import-spec PATH [--name NAME]   upstream spec -> specs/NAME/connector.yaml (prose dropped)
  cargo xtask layers                           no import cycles between modules; runtime layers downward only
  cargo xtask oracle ORACLE_DIR --specs SPEC_DIR [options]";

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("generate") => generate::main(args),
        Some("conformance") => conformance::main(args),
        Some("package-check") => catalogue::package_check(),
        Some("feature-check") => catalogue::feature_check(args),
        Some("import-spec") => catalogue::import_spec(args),
        Some("layers") => layers::main(),
        Some("oracle") => airbyte_agent_tests::oracle::main_with_args(args),
        _ => {
            eprintln!("{USAGE}");
            ExitCode::from(2)
        }
    }
}
