#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| airbyte_agent_fuzz::spec_loader(data));
