//! The committed JSON Schemas in `schemas/` match the Rust types. Regenerate with
//! `JEMPUT_UPDATE_SCHEMAS=1 cargo test --test schemas`.

mod common;

use std::path::Path;

use jemput_core::keys::SigningKey;
use jemput_core::packet::format::parse_prelude;

#[test]
fn committed_schemas_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("JEMPUT_UPDATE_SCHEMAS").is_some();
    let mut drift = Vec::new();
    for (name, schema) in jemput::schemas::all() {
        let want = jemput::schemas::render(&schema);
        let path = dir.join(name);
        if update {
            std::fs::write(&path, &want).unwrap();
            continue;
        }
        match std::fs::read_to_string(&path) {
            Ok(have) if have == want => {}
            Ok(_) => drift.push(format!("{name} differs from the types")),
            Err(_) => drift.push(format!("{name} is missing")),
        }
    }
    assert!(
        drift.is_empty(),
        "schemas drifted: {drift:?}; run `JEMPUT_UPDATE_SCHEMAS=1 cargo test --test schemas` and commit"
    );
}

#[test]
fn a_sealed_header_validates_against_its_schema_shape() {
    // A header really sealed: its members are exactly the schema's properties, every one of them
    // required, and nothing else allowed. (Python's jsonschema validates whole sealed packets'
    // headers, and every other schema, in tests/schemas_validated.rs.)
    let office = common::office();
    let sealed = common::small_packet(&SigningKey::generate(), &office);
    let prelude = parse_prelude(&sealed.bytes).unwrap();
    let header: serde_json::Value = serde_json::from_slice(&prelude.header_bytes).unwrap();
    let mut members: Vec<String> = header.as_object().unwrap().keys().cloned().collect();
    members.sort();

    let schema = jemput::schemas::all()
        .into_iter()
        .find(|(n, _)| *n == "packet-header.schema.json")
        .unwrap()
        .1;
    let v = serde_json::to_value(&schema).unwrap();
    let mut required: Vec<String> = v["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect();
    required.sort();
    let mut props: Vec<String> = v["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    props.sort();
    assert_eq!(
        members, props,
        "the sealed header's members against the schema's properties"
    );
    assert_eq!(required, props);
    assert_eq!(v["additionalProperties"], false);
    // Each member has the JSON type the schema gives it.
    for (name, value) in header.as_object().unwrap() {
        let want = &v["properties"][name]["type"];
        let have = match value {
            serde_json::Value::String(_) => "string",
            serde_json::Value::Number(n) if n.is_u64() || n.is_i64() => "integer",
            serde_json::Value::Number(_) => "number",
            serde_json::Value::Array(_) => "array",
            serde_json::Value::Object(_) => "object",
            serde_json::Value::Bool(_) => "boolean",
            serde_json::Value::Null => "null",
        };
        let allowed = match want {
            serde_json::Value::String(t) => vec![t.as_str()],
            serde_json::Value::Array(ts) => ts.iter().filter_map(|t| t.as_str()).collect(),
            _ => continue,
        };
        assert!(
            allowed.contains(&have) || (have == "integer" && allowed.contains(&"number")),
            "{name}: a {have} where the schema says {want}"
        );
    }
}
