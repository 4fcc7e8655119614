//! Load every corpus spec and print a summary line per spec (development aid).
fn main() {
    let verbose = std::env::args().any(|a| a == "-v");
    for dir in ["current", "previous"] {
        let base = std::path::Path::new("../shared/airbyte-specs").join(dir);
        let Ok(rd) = std::fs::read_dir(&base) else {
            continue;
        };
        let mut names: Vec<_> = rd.flatten().map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let f = p.join("connector.yaml");
            if !f.exists() {
                continue;
            }
            let t = std::time::Instant::now();
            match airbyte_agent_codegen::load(&f) {
                Ok(l) => {
                    let d = airbyte_agent_codegen::descriptor(&l.ir);
                    let ops: usize = d.entities.iter().map(|e| e.operations.len()).sum();
                    println!(
                        "{dir}/{} ok ents={} ops={} types={} warns={} {:?}",
                        d.name,
                        d.entities.len(),
                        ops,
                        l.ir.types.types.len(),
                        l.warnings.len(),
                        t.elapsed()
                    );
                    if verbose {
                        for w in &l.warnings {
                            println!("   W {w}");
                        }
                        for e in d.entities {
                            for o in e.operations {
                                if o.kind.returns_many() {
                                    println!("   P {}.{} {:?}", o.entity, o.action, o.pagination);
                                }
                            }
                        }
                    }
                }
                Err(e) => println!("{dir} ERR {e}"),
            }
        }
    }
}
