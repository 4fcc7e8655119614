//! Generate one crate from a spec into a directory (development aid).
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (spec, out) = (&args[1], std::path::Path::new(&args[2]));
    let loaded = airbyte_agent_codegen::load(std::path::Path::new(spec)).unwrap();
    let mut opts = airbyte_agent_codegen::emit::EmitOptions::in_repo(&loaded.ir);
    opts.runtime_path = args[3].clone();
    let files = airbyte_agent_codegen::emit::emit_crate(&loaded.ir, &opts).unwrap();
    for f in files {
        let p = out.join(&f.path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, f.contents).unwrap();
    }
}
