//! The committed JSON Schemas in `schemas/` match the Rust types. Regenerate with
//! `JEMPUT_UPDATE_SCHEMAS=1 cargo test --test schemas`.

use std::path::Path;

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
    // Every required member of the header schema is in a real header, and nothing else is.
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
    assert_eq!(required, props);
    assert_eq!(v["additionalProperties"], false);
}
