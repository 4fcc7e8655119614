use std::process::ExitCode;

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("oracle") => airbyte_agent_tests::oracle::main_with_args(args),
        _ => {
            eprintln!("usage: cargo xtask oracle ORACLE_DIR --specs SPEC_DIR [options]");
            ExitCode::from(2)
        }
    }
}
